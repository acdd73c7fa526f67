#include "RandomModel.h"

#include <cmath>
#include <random>

namespace mfx {

namespace {

void uniform(std::vector<float>& v, std::mt19937_64& rng, double bound) {
    std::uniform_real_distribution<double> d(-bound, bound);
    for (auto& x : v) x = static_cast<float>(d(rng));
}

} // namespace

// Follows mamba_simple.py's __init__:
//   dt = exp(U(log dtMin, log dtMax)) clamped >= 1e-4;  dt_proj.bias = dt + log(-expm1(-dt))  (inverse softplus)
//   dt_proj.weight ~ U(-dtRank^-0.5, dtRank^-0.5);  A_log[d, n] = log(n + 1);  D = 1
//   nn.Linear / Conv1d default init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and biases.
Model randomModel(const Config& config, std::uint64_t seed, const InitOptions& o) {
    config.validate();
    Model m;
    m.config = config;
    m.weights = Weights::zeros(config);
    std::mt19937_64 rng(seed);
    const int dIn = config.dInner();
    const double s = o.scale;
    Weights& w = m.weights;

    uniform(w.embeddingWeight, rng, s / std::sqrt(1.0 + config.nCond));
    uniform(w.embeddingBias, rng, s / std::sqrt(1.0 + config.nCond));
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    for (auto& l : w.layers) {
        uniform(l.inProj, rng, s / std::sqrt(config.dModel));
        uniform(l.convWeight, rng, s / std::sqrt(config.dConv));
        uniform(l.convBias, rng, s / std::sqrt(config.dConv));
        uniform(l.xProj, rng, s / std::sqrt(dIn));
        uniform(l.dtProjWeight, rng, s / std::sqrt(config.dtRank));
        for (auto& b : l.dtProjBias) {
            double dt = std::exp(u01(rng) * (std::log(o.dtMax) - std::log(o.dtMin)) + std::log(o.dtMin));
            dt = std::max(dt, 1e-4);
            b = static_cast<float>(dt + std::log(-std::expm1(-dt)));
        }
        for (int d = 0; d < dIn; ++d)
            for (int n = 0; n < config.dState; ++n)
                l.ALog[static_cast<size_t>(d * config.dState + n)] = static_cast<float>(std::log(n + 1.0));
        for (auto& x : l.D) x = 1.0f;
        uniform(l.outProj, rng, s / std::sqrt(dIn));
        for (auto& x : l.norm) x = 1.0f;
    }
    for (auto& x : w.normF) x = 1.0f;
    uniform(w.headWeight, rng, 1.0 / std::sqrt(config.dModel));
    uniform(w.headBias, rng, 0.01);
    w.skip[0] = static_cast<float>(o.skip);
    m.metadata[meta::name] = "random model (seed " + std::to_string(seed) + ")";
    return m;
}

} // namespace mfx
