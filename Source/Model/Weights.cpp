#include "Weights.h"
#include "ModelError.h"

#include <cmath>
#include <string>

namespace mfx {

namespace {

size_t product(const std::vector<int>& shape) {
    size_t n = 1;
    for (int s : shape) n *= static_cast<size_t>(s);
    return n;
}

template <typename W>
std::vector<TensorRef> makeTable(const Config& c, W& w) {
    auto* mw = const_cast<Weights*>(&w);
    const int dIn = c.dInner();
    std::vector<TensorRef> t;
    t.push_back({"embedding.weight", {c.dModel, 1 + c.nCond}, &mw->embeddingWeight});
    t.push_back({"embedding.bias", {c.dModel}, &mw->embeddingBias});
    for (int i = 0; i < c.nLayers && i < static_cast<int>(mw->layers.size()); ++i) {
        auto& l = mw->layers[static_cast<size_t>(i)];
        const std::string p = "layers." + std::to_string(i) + ".";
        const std::string m = p + "mixer.";
        t.push_back({m + "in_proj.weight", {2 * dIn, c.dModel}, &l.inProj});
        t.push_back({m + "conv1d.weight", {dIn, 1, c.dConv}, &l.convWeight});
        t.push_back({m + "conv1d.bias", {dIn}, &l.convBias});
        t.push_back({m + "x_proj.weight", {c.xProjOut(), dIn}, &l.xProj});
        t.push_back({m + "dt_proj.weight", {dIn, c.dtRank}, &l.dtProjWeight});
        t.push_back({m + "dt_proj.bias", {dIn}, &l.dtProjBias});
        t.push_back({m + "A_log", {dIn, c.dState}, &l.ALog});
        t.push_back({m + "D", {dIn}, &l.D});
        t.push_back({m + "out_proj.weight", {c.dModel, dIn}, &l.outProj});
        t.push_back({p + "norm.weight", {c.dModel}, &l.norm});
    }
    t.push_back({"norm_f.weight", {c.dModel}, &mw->normF});
    t.push_back({"head.weight", {1, c.dModel}, &mw->headWeight});
    t.push_back({"head.bias", {1}, &mw->headBias});
    t.push_back({"skip", {1}, &mw->skip});
    return t;
}

} // namespace

std::vector<TensorRef> tensorTable(const Config& config, Weights& weights) { return makeTable(config, weights); }
std::vector<TensorRef> tensorTable(const Config& config, const Weights& weights) { return makeTable(config, weights); }

Weights Weights::zeros(const Config& config) {
    Weights w;
    w.layers.resize(static_cast<size_t>(config.nLayers));
    for (auto& t : tensorTable(config, w)) t.data->assign(product(t.shape), 0.0f);
    return w;
}

void Model::validate() const {
    config.validate();
    if (weights.layers.size() != static_cast<size_t>(config.nLayers))
        throw ModelError("model has " + std::to_string(weights.layers.size()) + " layers of weights but its config says " +
                         std::to_string(config.nLayers));
    for (const auto& t : tensorTable(config, weights)) {
        if (t.data->size() != product(t.shape))
            throw ModelError("tensor '" + t.name + "' has " + std::to_string(t.data->size()) + " values, expected " +
                             std::to_string(product(t.shape)));
        for (size_t i = 0; i < t.data->size(); ++i)
            if (!std::isfinite((*t.data)[i]))
                throw ModelError("tensor '" + t.name + "' has a non-finite value at index " + std::to_string(i));
    }
}

std::string Model::name() const {
    auto it = metadata.find(meta::name);
    return it == metadata.end() || it->second.empty() ? std::string("unnamed model") : it->second;
}

} // namespace mfx
