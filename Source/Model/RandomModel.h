#pragma once
// Models with random weights, for tests, benchmarks and as the trainer's starting point.
#include "Weights.h"

#include <cstdint>

namespace mfx {

// The reference Mamba initialisation (mamba_simple.py): S4D-real A_log = log(1..dState),
// dt_proj bias = softplus^-1(dt) with dt log-uniform in [dtMin, dtMax], D = 1, uniform fan-in weights,
// RMSNorm weights 1. `scale` multiplies the random projections (1 = reference init); tests use larger
// values to get "trained-like" models with strong nonlinear behaviour.
struct InitOptions {
    double dtMin = 0.001;
    double dtMax = 0.1;
    double scale = 1.0;
    double skip = 0.0;
};

Model randomModel(const Config& config, std::uint64_t seed, const InitOptions& options = {});

} // namespace mfx
