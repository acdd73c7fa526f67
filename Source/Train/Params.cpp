#include "Params.h"

#include <stdexcept>

namespace mfx::train {

namespace {
// The order viewParams() walks; checked against tensorTable so the two can never drift apart.
const char* const kLayerSuffixes[] = {"mixer.in_proj.weight", "mixer.conv1d.weight", "mixer.conv1d.bias",
                                      "mixer.x_proj.weight",  "mixer.dt_proj.weight", "mixer.dt_proj.bias",
                                      "mixer.A_log",          "mixer.D",              "mixer.out_proj.weight",
                                      "norm.weight"};
} // namespace

ParamLayout::ParamLayout(const Config& c) : config(c) {
    Weights w = Weights::zeros(c);
    for (const auto& t : tensorTable(c, w)) {
        slots.push_back({t.name, total, t.data->size()});
        total += t.data->size();
    }
    // Verify the order viewParams() assumes.
    std::vector<std::string> expect = {"embedding.weight", "embedding.bias"};
    for (int i = 0; i < c.nLayers; ++i)
        for (const char* s : kLayerSuffixes) expect.push_back("layers." + std::to_string(i) + "." + s);
    for (const char* s : {"norm_f.weight", "head.weight", "head.bias", "skip"}) expect.emplace_back(s);
    if (expect.size() != slots.size()) throw std::logic_error("ParamLayout: tensorTable has an unexpected length");
    for (std::size_t i = 0; i < slots.size(); ++i)
        if (slots[i].name != expect[i])
            throw std::logic_error("ParamLayout: tensorTable order changed at '" + slots[i].name + "'");
}

const TensorSlot& ParamLayout::slot(const std::string& name) const {
    for (const auto& s : slots)
        if (s.name == name) return s;
    throw std::out_of_range("no tensor named " + name);
}

std::vector<double> flatten(const Model& model) {
    std::vector<double> flat;
    for (const auto& t : tensorTable(model.config, model.weights))
        for (float v : *t.data) flat.push_back(static_cast<double>(v));
    return flat;
}

void unflatten(const std::vector<double>& flat, Model& model) {
    std::size_t i = 0;
    for (auto& t : tensorTable(model.config, model.weights))
        for (float& v : *t.data) v = static_cast<float>(flat.at(i++));
    if (i != flat.size()) throw std::logic_error("unflatten: parameter vector has the wrong length");
}

} // namespace mfx::train
