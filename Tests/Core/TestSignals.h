#pragma once
// Test inputs and random configurations shared by the core tests.
#include "Model/Config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace mfx::test {

// A signal of n samples cycling through segments of: noise, sines, impulses, silence and loud clipped
// material (peaks at +12 dBFS, hard-clipped at +-4), so every test sees every kind of input.
inline std::vector<float> mixedSignal(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, 0.3);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<float> x(n);
    const std::size_t seg = 4801;
    for (std::size_t t = 0; t < n; ++t) {
        const std::size_t kind = (t / seg + seed) % 5;
        const double ph = static_cast<double>(t);
        double v = 0;
        switch (kind) {
            case 0: v = g(rng); break;
            case 1: v = 0.5 * std::sin(2 * M_PI * 220.0 * ph / 48000.0) + 0.25 * std::sin(2 * M_PI * 3150.0 * ph / 48000.0); break;
            case 2: v = (t % 997 == 0) ? 1.0 : 0.0; break;
            case 3: v = 0.0; break;
            default: v = std::clamp(4.0 * std::sin(2 * M_PI * 110.0 * ph / 48000.0) + g(rng), -4.0, 4.0); break;
        }
        x[t] = static_cast<float>(v);
    }
    return x;
}

inline std::vector<float> noise(std::size_t n, std::uint64_t seed, double amp = 0.5) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-amp, amp);
    std::vector<float> x(n);
    for (auto& v : x) v = static_cast<float>(u(rng));
    return x;
}

// A random configuration within the ranges of the Core issue's tests.
inline Config randomConfig(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    Config c;
    const int dModels[] = {4, 5, 8, 12, 16, 24, 32, 48, 64};
    const int dStates[] = {1, 2, 4, 7, 8, 16, 32, 64};
    c.dModel = dModels[pick(0, 8)];
    c.dState = dStates[pick(0, 7)];
    c.dConv = pick(2, 4);
    c.nLayers = pick(1, 4);
    c.expand = pick(1, 2);
    c.dtRank = pick(0, 3) == 0 ? pick(1, 4) : Config::defaultDtRank(c.dModel);
    c.nCond = pick(0, 2);
    return c;
}

// Same samples, bit for bit.
inline bool bitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

inline double relativeL2(const std::vector<float>& a, const std::vector<double>& ref) {
    // Signals of different lengths or empty ones are a failure, not a small error.
    if (a.size() != ref.size() || a.empty())
        throw std::runtime_error("relativeL2: the signals differ in length (" + std::to_string(a.size()) + " and " +
                                 std::to_string(ref.size()) + " samples) or are empty");
    double num = 0, den = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double d = static_cast<double>(a[i]) - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    return std::sqrt(num / std::max(den, 1e-300));
}

} // namespace mfx::test
