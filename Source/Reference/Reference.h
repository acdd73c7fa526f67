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

} // namespace mfx
