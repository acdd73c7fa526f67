#pragma once
// Signals of the training tests (CPU and GPU): plucked-string-like input and the synthetic effect
// the tests learn, a tanh drive into a one-pole low-pass.
#include "Train/Trainer.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace mfx::traintest {

// Plucked-string-like input: decaying partials at random pitches and levels, with short silences.
inline std::vector<float> pluckSignal(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<float> x(n, 0.0f);
    std::size_t t = 0;
    while (t < n) {
        const std::size_t len = 2000 + static_cast<std::size_t>(u(rng) * 6000);
        const double f0 = 80.0 * std::pow(2.0, u(rng) * 3.0) / 48000.0, amp = 0.05 + 0.6 * u(rng), decay = 1.0 / (800 + 3000 * u(rng));
        for (std::size_t k = 0; k < len && t + k < n; ++k)
            for (int h = 1; h <= 4; ++h)
                x[t + k] += static_cast<float>(amp / h * std::exp(-decay * k * h) * std::sin(2 * M_PI * f0 * h * k + h));
        t += len + (u(rng) < 0.2 ? 500 : 0);
    }
    return x;
}

// y = one-pole low-pass (pole 0.6) of tanh(drive * x)
inline std::vector<float> driveLowpass(const std::vector<float>& x, double drive) {
    std::vector<float> y(x.size());
    double s = 0;
    for (std::size_t t = 0; t < x.size(); ++t) {
        s = 0.6 * s + 0.4 * std::tanh(drive * x[t]);
        y[t] = static_cast<float>(s);
    }
    return y;
}

// y played back and recorded by a recorder whose clock runs `ratio` fast (1.0001: 100 ppm):
// out[i] = y at i / ratio, linear interpolation.
inline std::vector<float> stretched(const std::vector<float>& y, double ratio) {
    std::vector<float> out(static_cast<std::size_t>(static_cast<double>(y.size()) * ratio) + 1, 0.0f);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double at = static_cast<double>(i) / ratio;
        const auto k = static_cast<std::size_t>(at);
        if (k + 1 >= y.size()) break;
        const double f = at - static_cast<double>(k);
        out[i] = static_cast<float>((1.0 - f) * y[k] + f * y[k + 1]);
    }
    return out;
}

// The synthetic task of the training tests: plucks through driveLowpass(drive 4), 2 s to train
// on and 1 s to validate on.
inline std::pair<train::Recording, train::Recording> syntheticRecordings() {
    train::Recording tr{pluckSignal(96000, 1), {}, {}, "train"};
    tr.target = driveLowpass(tr.input, 4.0);
    train::Recording va{pluckSignal(48000, 2), {}, {}, "val"};
    va.target = driveLowpass(va.input, 4.0);
    return {tr, va};
}

} // namespace mfx::traintest
