#pragma once
// What every implementation does to an input sample before the model sees it:
// a non-finite sample becomes 0 and magnitudes are limited to kMaxInputMagnitude (+80 dBFS), so a
// broken host buffer can never make the state non-finite.
#include <cmath>

namespace mfx {

inline constexpr float kMaxInputMagnitude = 1.0e4f;

inline float sanitizeSample(float x) noexcept {
    if (!(x == x) || std::isinf(x)) return 0.0f;
    return x > kMaxInputMagnitude ? kMaxInputMagnitude : (x < -kMaxInputMagnitude ? -kMaxInputMagnitude : x);
}

} // namespace mfx
