#pragma once
// The persistent state of one channel of a model: per layer, the causal-conv window and the SSM state.
// This is the canonical, implementation-independent layout: every backend (float64 reference,
// real-time engine, offline CPU path, CUDA) converts its internal layout to and from this one, so
// states can be saved, restored and compared across implementations.
#include "../Model/Weights.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mfx {

template <typename T>
struct StateT {
    struct Layer {
        std::vector<T> conv; // (dInner, dConv - 1): the last dConv-1 conv inputs, oldest first
        std::vector<T> ssm;  // (dInner, dState): h
    };
    std::vector<Layer> layers; // nLayers

    StateT() = default;
    explicit StateT(const Config& c) : layers(static_cast<size_t>(c.nLayers)) {
        for (auto& l : layers) {
            l.conv.assign(static_cast<size_t>(c.dInner()) * static_cast<size_t>(c.dConv - 1), T(0));
            l.ssm.assign(static_cast<size_t>(c.dInner()) * static_cast<size_t>(c.dState), T(0));
        }
    }
    void reset() {
        for (auto& l : layers) {
            std::fill(l.conv.begin(), l.conv.end(), T(0));
            std::fill(l.ssm.begin(), l.ssm.end(), T(0));
        }
    }
    bool allFinite() const;

    // The same state in another precision (float64 <-> float32, rounding to nearest).
    template <typename U>
    StateT<U> as() const {
        StateT<U> s;
        s.layers.resize(layers.size());
        for (std::size_t l = 0; l < layers.size(); ++l) {
            s.layers[l].conv.assign(layers[l].conv.begin(), layers[l].conv.end());
            s.layers[l].ssm.assign(layers[l].ssm.begin(), layers[l].ssm.end());
        }
        return s;
    }
};

using State = StateT<float>;
using ReferenceState = StateT<double>;

// Binary save/restore (StateIO.cpp): "MFXS", u32 version = 2, u32 nLayers, dInner, dConv, dState,
// u64 fingerprint of the model that made it (0: not recorded), floats. Version 1 (the same without
// the fingerprint) is still read. The Config forms neither record nor check the fingerprint; the
// Model forms record it and refuse a state that another model recorded (same shape, other weights:
// it would restore without error and sound wrong).
std::vector<std::uint8_t> serializeState(const State& state, const Config& config);
std::vector<std::uint8_t> serializeState(const State& state, const Model& model);
State deserializeState(const std::vector<std::uint8_t>& bytes, const Config& config); // throws ModelError
State deserializeState(const std::vector<std::uint8_t>& bytes, const Model& model);   // throws ModelError

// FNV-1a (64 bit) over the config (dModel, nLayers, dState, dConv, expand, dtRank, nCond as u64, the
// sample rate's float64 bits) and every tensor's float bits, in tensorTable order; never 0.
std::uint64_t modelFingerprint(const Model& model);

// Relative L2 distance between two states (over all conv and ssm values), for tests.
double stateRelativeError(const State& a, const ReferenceState& b);
double stateRelativeError(const State& a, const State& b);

} // namespace mfx
