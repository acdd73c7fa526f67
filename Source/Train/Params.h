#pragma once
// The model's parameters as one flat vector, in tensorTable() order, and typed views into it.
// The trainer, its optimiser and the gradient all use this layout, so a gradient element and the
// parameter it belongs to share an index, and the tensor names come from the one table in Weights.h.
#include "../Model/Weights.h"

#include <cstddef>
#include <string>
#include <vector>

namespace mfx::train {

struct TensorSlot {
    std::string name;
    std::size_t offset = 0; // into the flat vector
    std::size_t size = 0;
};

// Offsets of every tensor of `config`, in tensorTable order.
struct ParamLayout {
    Config config;
    std::vector<TensorSlot> slots;
    std::size_t total = 0;

    explicit ParamLayout(const Config& c);
    const TensorSlot& slot(const std::string& name) const; // throws std::out_of_range
};

std::vector<double> flatten(const Model& model);                    // (total)
void unflatten(const std::vector<double>& flat, Model& model);      // rounds to float

// Pointers to each tensor inside a flat array (parameters or their gradient).
template <typename T>
struct ParamView {
    struct Layer {
        T* inProj;     // (2*dInner, dModel)
        T* convWeight; // (dInner, dConv)
        T* convBias;   // (dInner)
        T* xProj;      // (dtRank + 2*dState, dInner)
        T* dtWeight;   // (dInner, dtRank)
        T* dtBias;     // (dInner)
        T* ALog;       // (dInner, dState)
        T* D;          // (dInner)
        T* outProj;    // (dModel, dInner)
        T* norm;       // (dModel)
    };
    T* embWeight; // (dModel, 1 + nCond)
    T* embBias;   // (dModel)
    std::vector<Layer> layers;
    T* normF;     // (dModel)
    T* headWeight; // (1, dModel)
    T* headBias;  // (1)
    T* skip;      // (1)
};

template <typename T>
ParamView<T> viewParams(const ParamLayout& layout, T* flat) {
    ParamView<T> v{};
    const auto& s = layout.slots;
    std::size_t i = 0;
    auto next = [&]() { return flat + s[i++].offset; };
    v.embWeight = next();
    v.embBias = next();
    v.layers.resize(static_cast<std::size_t>(layout.config.nLayers));
    for (auto& l : v.layers) {
        l.inProj = next();
        l.convWeight = next();
        l.convBias = next();
        l.xProj = next();
        l.dtWeight = next();
        l.dtBias = next();
        l.ALog = next();
        l.D = next();
        l.outProj = next();
        l.norm = next();
    }
    v.normF = next();
    v.headWeight = next();
    v.headBias = next();
    v.skip = next();
    return v;
}

} // namespace mfx::train
