// The real-time engine's one-sample path (Source/Engine/SampleStep-inl.h, the shapes it is compiled
// for at blocks of 1-4 rows) against the block path, the offline renderer and the float64 reference, on
// every SIMD target this machine supports; and the scan's table-based exp(dt A).
#include "Float32Bounds.h"
#include "TestSignals.h"

#include "Engine/Kernels.h"
#include "Engine/OfflineRenderer.h"
#include "Engine/PreparedModel.h"
#include "Engine/RealtimeEngine.h"
#include "Model/RandomModel.h"
#include "Reference/Reference.h"

#include "hwy/targets.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace mfx;
using mfx::test::bitwiseEqual;

namespace {

// Runs `body` once per SIMD target compiled in and supported here, with dispatch forced to it.
template <class F>
void forEachTarget(F&& body) {
    for (const int64_t target : hwy::SupportedAndGeneratedTargets()) {
        hwy::SetSupportedTargetsForTest(target);
        hwy::GetChosenTarget().Update(hwy::SupportedTargets());
        INFO("SIMD target " << hwy::TargetName(target));
        body(hwy::TargetName(target));
    }
    hwy::SetSupportedTargetsForTest(0);
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
}

// `in` through a RealtimeEngine in blocks of `block` (-1: random sizes); `finalState` (if given)
// receives the engine's state at the end.
std::vector<float> runBlocks(const Model& model, const std::vector<float>& in, const std::vector<float>& cond, int block,
                             std::mt19937& rng, State* finalState = nullptr) {
    RealtimeEngine e(model, 1);
    const int nCond = model.config.nCond;
    if (nCond) {
        std::vector<float> held(static_cast<std::size_t>(nCond), 0.25f);
        e.setConditioning(held.data());
    }
    std::vector<float> out(in.size());
    for (std::size_t done = 0; done < in.size();) {
        const int b = block > 0 ? block : std::uniform_int_distribution<int>(0, 200)(rng); // random sizes, 0 included
        const int len = static_cast<int>(std::min<std::size_t>(in.size() - done, static_cast<std::size_t>(b)));
        // nCond 2: per-sample conditioning; nCond 1: the held value
        const float* c = nCond == 2 ? cond.data() + done * static_cast<std::size_t>(nCond) : nullptr;
        e.processChannel(0, in.data() + done, out.data() + done, len, c);
        done += static_cast<std::size_t>(len);
    }
    if (finalState) *finalState = e.getState(0);
    return out;
}

} // namespace

namespace {
// The shapes the one-sample path is compiled for (Kernels.cpp TrySamples), each with a few layers.
std::vector<Config> oneSampleShapes() {
    Config ref; // the reference size
    Config narrow4;
    narrow4.dModel = 8; narrow4.nLayers = 5; narrow4.dState = 4; narrow4.dtRank = 1;
    Config narrow8 = narrow4;
    narrow8.nLayers = 3; narrow8.dState = 8;
    return {ref, narrow4, narrow8};
}
} // namespace

TEST_CASE("one-sample path: bitwise the block path at every block size, on every SIMD target", "[engine][blocks][sample-step]") {
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    for (const Config& shape : oneSampleShapes())
        for (int nCond : {0, 1, 2}) {
            Config c = shape;
            c.nCond = nCond;
            INFO(c.summary());
            const Model model = randomModel(c, seed + static_cast<std::uint64_t>(nCond), {0.001, 0.1, 1.5, 0.2});
            const std::size_t n = 6000;
            const auto in = test::mixedSignal(n, seed);
            std::vector<float> cond(n * static_cast<std::size_t>(nCond));
            for (std::size_t i = 0; i < cond.size(); ++i) cond[i] = static_cast<float>(0.5 + 0.5 * std::sin(0.001 * static_cast<double>(i)));
            forEachTarget([&](const char*) {
                std::mt19937 rng(static_cast<unsigned>(seed));
                std::vector<float> first;
                for (int block : {1, 2, 3, 4, 5, 7, 64, 4096, -1}) {
                    const auto out = runBlocks(model, in, cond, block, rng);
                    if (first.empty()) first = out;
                    INFO("block size " << block);
                    CHECK(bitwiseEqual(out, first));
                }
            });
        }
}

TEST_CASE("one-sample path matches the float64 reference and the offline renderer", "[engine][reference][sample-step]") {
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    InitOptions init;
    init.scale = 1.5;
    init.skip = 0.3;
    for (const Config& c : oneSampleShapes()) {
        INFO(c.summary());
        const Model model = randomModel(c, seed, init);
        const std::size_t n = 50000;
        const auto in = test::mixedSignal(n, seed);
        ReferenceState refState(model.config);
        const auto ref = referenceForward(model, in.data(), nullptr, n, refState);

        RealtimeEngine rt(model, 1);
        std::vector<float> out(n);
        for (std::size_t t = 0; t < n; ++t) rt.process(in.data() + t, out.data() + t, 1); // block size 1 throughout
        // the Core issue's 1e-5, or twice plain float32's own error for the rare random model that
        // amplifies rounding beyond it (about 1 run in 50 here: a slow-decay state at 1.002e-5, float32 6.3e-6)
        const double errOut = test::relativeL2(out, ref), errState = stateRelativeError(rt.getState(0), refState);
        const test::Bounds bound = test::boundsFor(errOut, errState, model, in, nullptr, ref, refState);
        CHECK(errOut <= bound.out);
        CHECK(errState <= bound.state);

        OfflineOptions o;
        o.numThreads = 2;
        OfflineRenderer off(model, 1, o);
        std::vector<float> outOff(n);
        off.process(0, in.data(), outOff.data(), n, nullptr);
        CHECK(bitwiseEqual(outOff, out));
    }
}

// The float64 comparisons elsewhere run on the best target only (AVX3 here): this one holds every
// target this machine supports (AVX2, SSE4, SSSE3, scalar: what older CPUs run) to the reference too,
// block path and one-sample path and the offline renderer, on the one-sample shapes and fresh random
// configurations, with held conditioning where the shape has knobs.
TEST_CASE("every SIMD target: the engine and the offline path match the float64 reference on random models", "[engine][reference][simd]") {
    const std::uint64_t base = std::random_device{}();
    INFO("seed " << base);
    InitOptions init;
    init.scale = 1.5;
    init.skip = 0.3;
    std::vector<Config> shapes = oneSampleShapes();
    for (std::uint64_t k = 0; k < 3; ++k) shapes.push_back(test::randomConfig(base + 101 * k));
    std::uint64_t seed = base;
    for (const Config& c : shapes) {
        INFO(c.summary());
        const Model model = randomModel(c, ++seed, init);
        const std::size_t n = 20000;
        const auto in = test::mixedSignal(n, seed);
        const std::vector<float> held(static_cast<std::size_t>(c.nCond), 0.25f);
        std::vector<float> cond; // (n, nCond) the held values, for the reference
        for (std::size_t t = 0; t < n; ++t) cond.insert(cond.end(), held.begin(), held.end());
        const float* condPtr = c.nCond ? cond.data() : nullptr;
        ReferenceState refState(c);
        const auto ref = referenceForward(model, in.data(), condPtr, n, refState);
        forEachTarget([&](const char*) {
            std::mt19937 rng(static_cast<unsigned>(seed));
            for (int block : {1, -1}) { // the one-sample path, then uneven blocks (0 to 200 rows)
                INFO("block size " << (block > 0 ? "1" : "random"));
                State st(c);
                const auto out = runBlocks(model, in, cond, block, rng, &st); // the held knob values: 0.25
                const double errOut = test::relativeL2(out, ref), errState = stateRelativeError(st, refState);
                const test::Bounds bound = test::boundsFor(errOut, errState, model, in, condPtr, ref, refState);
                CHECK(errOut <= bound.out);
                CHECK(errState <= bound.state);
            }
            OfflineOptions o;
            o.numThreads = 2;
            o.windowSamples = 3001;
            OfflineRenderer off(model, 1, o);
            if (c.nCond) off.setConditioning(held.data());
            std::vector<float> outOff(n);
            off.process(0, in.data(), outOff.data(), n, nullptr);
            const double errOff = test::relativeL2(outOff, ref), errOffState = stateRelativeError(off.getState(0), refState);
            const test::Bounds bound = test::boundsFor(errOff, errOffState, model, in, condPtr, ref, refState);
            CHECK(errOff <= bound.out);
            CHECK(errOffState <= bound.state);
        });
    }
}

TEST_CASE("the scan's exp(dt A) stays within 3e-7 relative error, exact at 0, on every SIMD target", "[kernels]") {
    std::vector<float> x, y;
    for (double v = -125.0; v <= 0.0; v += 0.000731) x.push_back(static_cast<float>(v));
    for (double v = -1e-3; v <= 0.0; v += 1.37e-7) x.push_back(static_cast<float>(v)); // slow decays, long memory
    while (x.size() % kLanes) x.push_back(0.0f);
    y.resize(x.size());
    forEachTarget([&](const char* name) {
        kernels::scanDecay(x.data(), y.data(), x.size());
        double worst = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double ref = std::exp2(static_cast<double>(x[i]));
            worst = std::max(worst, std::abs(y[i] - ref) / ref);
        }
        INFO("worst relative error " << worst);
        CHECK(worst < 3e-7);
        WARN(name << ": worst relative error " << worst);
        CHECK(y.back() == 1.0f); // x = 0: no decay
    });
}

TEST_CASE("SiLU (fast exp, a division) and softplus stay accurate on every SIMD target", "[kernels]") {
    std::vector<float> x;
    for (double v = -90.0; v <= 90.0; v += 0.00173) x.push_back(static_cast<float>(v));
    while (x.size() % kLanes) x.push_back(0.0f);
    std::vector<float> y(x.size());
    forEachTarget([&](const char* name) {
        kernels::silu(x.data(), y.data(), x.size());
        double worst = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double v = x[i], ref = v / (1.0 + std::exp(-v));
            worst = std::max(worst, std::abs(y[i] - ref) / std::max(std::abs(ref), 1e-30));
        }
        INFO(name << ": SiLU worst relative error " << worst);
        CHECK(worst < 5e-7);
        std::vector<float> sp(x);
        kernels::softplus(sp.data(), sp.size());
        double worstSp = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double v = x[i], ref = v > 20.0 ? v : std::log1p(std::exp(v));
            worstSp = std::max(worstSp, std::abs(sp[i] - ref) / std::max(ref, 1e-30));
        }
        INFO(name << ": softplus worst relative error " << worstSp);
        CHECK(worstSp < 1e-6);
    });
}
