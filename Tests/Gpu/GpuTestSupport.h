#pragma once
// Helpers of the GPU tests: the skip rule, error measures, and a GPU run with poisoned outputs.
#include "../Core/TestSignals.h"
#include "CudaBackend.h"
#include "Model/ModelError.h"
#include "Model/RandomModel.h"
#include "Reference/Reference.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <limits>
#include <map>
#include <string>
#include <memory>
#include <vector>

// Every GPU test starts with this: without a CUDA device it passes with a printed warning (Catch2 v2
// has no SKIP), so CI on machines without a GPU stays green.
#define MFX_REQUIRE_GPU()                                                                 \
    do {                                                                                  \
        if (::mfx::cudaDeviceCount() == 0) {                                              \
            WARN("skipped: no CUDA device");                                              \
            return;                                                                       \
        }                                                                                 \
    } while (0)

namespace mfx::gputest {

inline constexpr double kTolerance = 1e-5; // relative L2 error against the float64 reference (issue 3)
// Where a model amplifies float32 rounding (the shipped default) the GPU is held to three times the
// CPU engine's own distance from float64; that distance itself is held here, so the bound cannot grow
// with a broken engine (which would be orders of magnitude off). The default model on fresh plucked
// signals: 5.7e-5 to 1.9e-4 measured (7.3e-5 on DefaultModelTests' fixed input, held to 1e-4 there).
inline constexpr double kEngineCeiling = 5e-4;
// The same for a final state, whose relative error grows where the signal leaves it small (the end of
// a decay): ten times looser.
inline constexpr double kEngineStateCeiling = 1e-3;

// Fresh random models and signals every run: fresh(k) is the k-th seed of this run, derived from one
// base seed drawn from std::random_device (or MFX_SEED=N, to repeat a run), printed once.
inline std::uint64_t seedBase() {
    static const std::uint64_t base = [] {
        const char* env = std::getenv("MFX_SEED");
        const std::uint64_t b = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
        std::printf("[seed] GPU tests' base seed %llu (MFX_SEED=%llu repeats these models and signals)\n",
                    static_cast<unsigned long long>(b), static_cast<unsigned long long>(b));
        return b;
    }();
    return base;
}
inline std::uint64_t fresh(std::uint64_t k) { return seedBase() * 1000003ULL + k; }

template <typename A, typename B>
double relL2(const A* a, const B* ref, std::size_t n) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(a[i]) - static_cast<double>(ref[i]);
        num += d * d;
        den += static_cast<double>(ref[i]) * static_cast<double>(ref[i]);
    }
    if (num == 0) return 0;
    return std::sqrt(num / std::max(den, 1e-300));
}
template <typename A, typename B>
double relL2(const std::vector<A>& a, const std::vector<B>& ref) {
    REQUIRE(a.size() == ref.size());
    return relL2(a.data(), ref.data(), a.size());
}

inline bool allFinite(const std::vector<float>& v) {
    for (float x : v)
        if (!std::isfinite(x)) return false;
    return true;
}

// A "trained-like" random model: projections twice the reference init, so the nonlinearities matter.
inline Model strongModel(const Config& c, std::uint64_t seed, double skip = 0.5) {
    InitOptions o;
    o.scale = 2.0;
    o.skip = skip;
    return randomModel(c, seed, o);
}

inline Config referenceSize() {
    Config c;
    c.dModel = 16;
    c.nLayers = 2;
    c.dState = 16;
    c.dConv = 4;
    c.expand = 2;
    c.dtRank = 1;
    return c;
}

// Kernel variants every accuracy test runs: math mode, states per scan thread (0: automatic), tile
// (0: automatic) and chunk waves per window.
struct Variant {
    const char* name = "accurate";
    bool fast = false;
    int npt = 0;
    int tile = 0;
    int waves = 4;
    bool prefetch = true;
    bool poison = false; // NaN-filled shared memory at block start
};
inline std::vector<Variant> variants() {
    return {{"accurate", false, 0},
            {"fast math", true, 0},
            {"accurate, 2 states/thread", false, 2},
            {"fast, 2 states/thread", true, 2},
            {"fast, 8 states/thread", true, 8},
            {"fast, tile 32, 8 waves", true, 0, 32, 8},
            {"fast, tile 128, 1 wave", true, 0, 128, 1},
            {"fast, no prefetch", true, 0, 0, 4, false},
            {"fast, NaN-poisoned shared memory", true, 0, 0, 4, true, true},
            {"accurate, NaN-poisoned shared memory", false, 0, 0, 4, true, true}};
}

// nullptr only when the variant's statesPerThread or tile does not fit the shape.
inline std::unique_ptr<cuda::CudaBackend> makeGpu(const Model& m, int streams, std::size_t windowSamples = 0,
                                                  const Variant& v = {}) {
    cuda::CudaOptions o;
    o.windowSamples = windowSamples;
    o.fastMath = v.fast;
    o.statesPerThread = v.npt;
    o.tile = v.tile;
    o.chunkWaves = v.waves;
    o.prefetch = v.prefetch;
    o.poisonSharedMemory = v.poison;
    auto b = std::make_unique<cuda::CudaBackend>(0, o);
    try {
        b->prepare(m, streams);
    } catch (const ModelError& e) {
        const std::string why = e.what();
        if (v.npt != 0 && why.find("statesPerThread") != std::string::npos) return nullptr;
        if (v.tile != 0 && why.find("shared memory") != std::string::npos) return nullptr;
        throw;
    }
    return b;
}

// The worst output and state errors per variant, printed when the log goes out of scope, so the
// device run shows the margins to the tolerance and not only pass/fail.
struct ErrorLog {
    std::string test;
    std::map<std::string, std::pair<double, double>> worst;
    explicit ErrorLog(std::string t) : test(std::move(t)) {}
    void add(const std::string& variant, double out, double state) {
        auto& w = worst[variant];
        w.first = std::max(w.first, out);
        w.second = std::max(w.second, state);
    }
    ~ErrorLog() {
        for (const auto& [v, e] : worst)
            std::printf("[errors] %s | %s: worst output %.3g, worst state %.3g\n", test.c_str(), v.c_str(), e.first, e.second);
        std::fflush(stdout);
    }
};

// Runs `count` streams through `gpu` with every output sample poisoned (NaN) first, and checks that
// every one was written with a finite value.
inline std::vector<std::vector<float>> runGpu(cuda::CudaBackend& gpu, const std::vector<std::vector<float>>& in,
                                              const std::vector<const float*>* cond = nullptr) {
    const std::size_t n = in.empty() ? 0 : in[0].size();
    std::vector<std::vector<float>> out(in.size(), std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()));
    std::vector<const float*> ip;
    std::vector<float*> op;
    for (std::size_t s = 0; s < in.size(); ++s) {
        REQUIRE(in[s].size() == n);
        ip.push_back(in[s].data());
        op.push_back(out[s].data());
    }
    gpu.process(ip.data(), op.data(), static_cast<int>(in.size()), n, cond ? cond->data() : nullptr);
    for (const auto& o : out) REQUIRE(allFinite(o));
    return out;
}

inline std::vector<float> runGpu1(cuda::CudaBackend& gpu, const std::vector<float>& in, const float* cond = nullptr) {
    std::vector<const float*> c{cond};
    return runGpu(gpu, {in}, cond ? &c : nullptr)[0];
}

} // namespace mfx::gputest
