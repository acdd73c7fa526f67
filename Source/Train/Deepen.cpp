#include "Deepen.h"

#include "../Model/ModelError.h"
#include "../Model/RandomModel.h"

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace mfx::train {

Model deepened(const Model& trained, int nLayers, std::uint64_t seed, std::string* note) {
    const int have = trained.config.nLayers;
    if (nLayers < have)
        throw ModelError("cannot deepen a " + std::to_string(have) + "-layer model to " + std::to_string(nLayers) +
                         " layers: ask for at least " + std::to_string(have));
    if (note) note->clear();
    if (nLayers == have) return trained;
    Config c = trained.config;
    c.nLayers = nLayers;
    const Model fresh = randomModel(c, seed); // the new layers' reference initialisation
    const int extra = nLayers - have;
    std::vector<LayerWeights> layers; // (nLayers)
    layers.reserve(static_cast<std::size_t>(nLayers));
    std::string added;
    int src = 0, k = 0;
    for (int i = 0; i < nLayers; ++i) {
        if (k < extra && i == (k + 1) * nLayers / (extra + 1)) {
            layers.push_back(fresh.weights.layers[static_cast<std::size_t>(i)]);
            for (auto& w : layers.back().outProj) w = 0.0f; // the residual branch adds 0
            added += (k ? ", " : "") + std::to_string(i);
            ++k;
        } else {
            layers.push_back(trained.weights.layers[static_cast<std::size_t>(src++)]);
        }
    }
    Model m = trained;
    m.config = c;
    m.weights.layers = std::move(layers);
    if (note) *note = "deepened from " + std::to_string(have) + " layers: new layers " + added + " (reference init, out_proj at zero)";
    return m;
}

Model widenedState(const Model& trained, int dState, std::uint64_t seed, std::string* note) {
    const Config& t = trained.config;
    if (dState < t.dState)
        throw ModelError("cannot widen a model of dState " + std::to_string(t.dState) + " to dState " + std::to_string(dState) +
                         ": ask for at least " + std::to_string(t.dState));
    if (note) note->clear();
    if (dState == t.dState) return trained;
    Config c = t;
    c.dState = dState;
    const Model fresh = randomModel(c, seed); // the new states' reference initialisation
    const auto P = static_cast<std::size_t>(c.dInner()), R = static_cast<std::size_t>(c.dtRank);
    const auto N0 = static_cast<std::size_t>(t.dState), N = static_cast<std::size_t>(dState);
    Model m = trained;
    m.config = c;
    for (std::size_t l = 0; l < m.weights.layers.size(); ++l) {
        const LayerWeights& old = trained.weights.layers[l];
        const LayerWeights& init = fresh.weights.layers[l];
        LayerWeights& w = m.weights.layers[l];
        // x_proj rows: [dt (R) | B (N) | C (N)], each (dInner)
        std::vector<float> xProj(init.xProj.size()); // (dtRank + 2*dState, dInner)
        auto row = [P](std::vector<float>& v, std::size_t r) { return v.begin() + static_cast<std::ptrdiff_t>(r * P); };
        auto crow = [P](const std::vector<float>& v, std::size_t r) { return v.begin() + static_cast<std::ptrdiff_t>(r * P); };
        for (std::size_t r = 0; r < R; ++r) std::copy_n(crow(old.xProj, r), P, row(xProj, r));
        for (std::size_t n = 0; n < N; ++n) {
            if (n < N0) {
                std::copy_n(crow(old.xProj, R + n), P, row(xProj, R + n));           // B
                std::copy_n(crow(old.xProj, R + N0 + n), P, row(xProj, R + N + n));  // C
            } else {
                std::copy_n(crow(init.xProj, R + n), P, row(xProj, R + n)); // B: reference init
                std::fill_n(row(xProj, R + N + n), P, 0.0f);                 // C: zero, the output is unchanged
            }
        }
        w.xProj = std::move(xProj);
        std::vector<float> aLog(init.ALog); // (dInner, dState): new states keep the reference init
        for (std::size_t i = 0; i < P; ++i)
            for (std::size_t n = 0; n < N0; ++n) aLog[i * N + n] = old.ALog[i * N0 + n];
        w.ALog = std::move(aLog);
    }
    if (note)
        *note = "widened from dState " + std::to_string(t.dState) + " to " + std::to_string(dState) +
                " (new states: reference init, C at zero)";
    return m;
}

} // namespace mfx::train
