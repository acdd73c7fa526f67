#pragma once
// The state the products' float32 engines start from (and reset to): the model at rest under silence.
//
// restState() (Reference.h) is the exact rest point, the float64 closed form rounded to float32. The
// float32 engines' own fixed point lies a rounding error away, and a high-gain model amplifies that
// difference into a small ring as it settles (the bundled default: up to 1.6e-4, -76 dBFS, over its
// first 30 samples). So engineRestState() runs kSettleSamples of silence through a RealtimeEngine from
// the rounded point and returns where it ends: under silence the engines' output is then constant to
// the bit (the default model settles to its last bit within 1,024 samples). The bitwise engines
// (real-time, offline with its lane scan) started there compute exactly what they would have after
// that silence; other arithmetic (CUDA, the chunked scan) has its own fixed point a rounding error
// away, which the render pipeline settles them at first (Source/Apps/common/RenderPipeline.cpp).
#include "../Model/Weights.h"
#include "State.h"

namespace mfx {

inline constexpr int kSettleSamples = 4096;

// `cond`: the held conditioning values (nCond), or nullptr for 0. Allocates (a mono engine, about
// 2 ms for the default model); throws ModelError if the model has no finite rest state.
State engineRestState(const Model& model, const float* cond = nullptr);

} // namespace mfx
