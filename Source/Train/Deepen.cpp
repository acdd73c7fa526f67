#include "Deepen.h"

#include "../Model/ModelError.h"
#include "../Model/RandomModel.h"

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

} // namespace mfx::train
