#pragma once
// The float64 reference: the model's definition, written for clarity. Every fast path (real-time
// engine, offline CPU path, CUDA) is compared against it in the tests; the products use it only for
// the rest state below (a few thousand operations per model, once).
#include "../Engine/State.h"
#include "../Model/Weights.h"

#include <cstddef>
#include <vector>

namespace mfx {

// Runs `n` samples of one channel. `cond` is (n, nCond) row-major, or nullptr for all-zero
// conditioning. `state` is read as the initial state and updated to the final state.
// Input samples are sanitised exactly as the engines do (see sanitizeSample).
std::vector<double> referenceForward(const Model& model, const float* in, const float* cond, std::size_t n,
                                     ReferenceState& state);

// The same definition, line for line, evaluated in float32 (libm's float exp, log1p and sqrt): a
// plain float32 implementation, for tests that ask how far float32 rounding alone puts a render from
// the float64 reference on a given model (Tests/Core/EngineTests.cpp, Tests/Train/DefaultModelTests.cpp).
std::vector<double> referenceForwardFloat32(const Model& model, const float* in, const float* cond, std::size_t n,
                                            State& state);

// The model's rest state: the state it settles to under silence (input 0) with the conditioning held
// at `cond` (nCond values, or nullptr for 0). Under a constant input every signal is constant, so it
// has a closed form, layer by layer: each conv window holds its constant input and each h is the
// recurrence's fixed point dt B x / (1 - exp(dt A)). Starting there, silence in gives a constant out
// at once; from the zero state a model takes as long as its slowest decay to settle, and a high-gain
// model's settling is loud (the bundled default: a 0.57-peak burst over its first 20 ms, then a drift
// over about a second). Computed in float64; restState() rounds it to float32 and throws ModelError if
// it is not finite. The products start from engineRestState() (Engine/RestState.h): this point
// settled in the float32 engine.
ReferenceState referenceRestState(const Model& model, const float* cond = nullptr);
State restState(const Model& model, const float* cond = nullptr);

} // namespace mfx
