#pragma once
// The float64 reference: the model's definition, written for clarity, used only by tests.
// Every fast path (real-time engine, offline CPU path, CUDA) is compared against this.
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

} // namespace mfx
