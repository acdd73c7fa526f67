// The CUDA backend against the CPU engines on long signals (where the float64 reference is too slow):
//  - 10^7 + 3 samples against the offline renderer, and the first 2*10^5 against the reference;
//  - 10 minutes at 48 kHz against the real-time engine.
// Both use a trained-like random model (projections at twice the reference init, skip 0.5); the
// 10-minute check also runs through the shipped default model on plucked-guitar-like input. Renders
// start where `mambafx render` starts them, at the model's rest state, in the last test.
#include "GpuTestSupport.h"
#include "../Core/TrainSignals.h"

#include "Engine/OfflineRenderer.h"
#include "Engine/RealtimeEngine.h"
#include "Engine/RestState.h"
#include "Model/ModelFile.h"

#include <filesystem>

using namespace mfx;
using namespace mfx::gputest;

namespace {

// `in` through the real-time engine (blocks of 4096) and the GPU (accurate and fast math): output
// within `tolerance`, final state within `stateTolerance` (< 0: the same). Returns the engine's output.
std::vector<float> checkAgainstEngine(const Model& model, const std::vector<float>& in, const char* logName,
                                      double tolerance = kTolerance, double stateTolerance = -1) {
    if (stateTolerance < 0) stateTolerance = tolerance;
    const std::size_t n = in.size();
    RealtimeEngine engine(model, 1);
    std::vector<float> rt(n);
    const std::size_t block = 4096;
    for (std::size_t t = 0; t < n; t += block)
        engine.process(in.data() + t, rt.data() + t, static_cast<int>(std::min(block, n - t)));
    ErrorLog log(logName);
    for (const Variant& v : {variants()[0], variants()[1]}) {
        INFO(v.name);
        auto gpu = makeGpu(model, 1, 0, v);
        const std::vector<float> out = runGpu1(*gpu, in);
        const double err = relL2(out, rt);
        const double stateErr = stateRelativeError(gpu->getState(0), engine.getState(0));
        INFO("vs real-time engine: output " << err << ", state " << stateErr);
        log.add(v.name, err, stateErr);
        CHECK(err <= tolerance);
        CHECK(stateErr <= stateTolerance);
    }
    return rt;
}

} // namespace

TEST_CASE("CUDA backend matches the offline renderer on 10^7 + 3 samples", "[gpu][long]") {
    MFX_REQUIRE_GPU();
    const Config c = referenceSize();
    const Model model = strongModel(c, 31);
    const std::size_t n = 10000003;
    const std::vector<float> in = test::mixedSignal(n, 17);

    OfflineRenderer cpu(model, 1);
    std::vector<float> cpuOut(n);
    cpu.process(0, in.data(), cpuOut.data(), n);
    const std::size_t m = 200000; // outputs are causal: a prefix of the run equals a run of the prefix
    ReferenceState rs(c);
    const std::vector<double> ref = referenceForward(model, in.data(), nullptr, m, rs);

    ErrorLog log("1e7+3 vs offline renderer (state) / float64 prefix of 2e5 (output)");
    ErrorLog logCpu("1e7+3 vs offline renderer (output, state)");
    for (const Variant& v : {variants()[0], variants()[1]}) {
        INFO(v.name);
        auto gpu = makeGpu(model, 1, (1u << 20) + 13, v); // windows that do not divide n
        const std::vector<float> out = runGpu1(*gpu, in);
        const double err = relL2(out, cpuOut);
        const double stateErr = stateRelativeError(gpu->getState(0), cpu.getState(0));
        INFO("vs offline renderer: output " << err << ", state " << stateErr);
        CHECK(err <= kTolerance);
        CHECK(stateErr <= kTolerance);
        const double prefixErr = relL2(out.data(), ref.data(), m);
        INFO("first " << m << " samples vs float64 reference: " << prefixErr);
        CHECK(prefixErr <= kTolerance);
        log.add(v.name, prefixErr, stateErr);
        logCpu.add(v.name, err, stateErr);
    }
}

TEST_CASE("CUDA backend matches the real-time engine on 10 minutes of audio", "[gpu][long][engine]") {
    MFX_REQUIRE_GPU();
    const Model model = strongModel(referenceSize(), 32);
    checkAgainstEngine(model, test::mixedSignal(10 * 60 * 48000, 18), "10 min vs real-time engine");
}

TEST_CASE("CUDA backend matches the real-time engine on 10 minutes through the default model", "[gpu][long][engine]") {
    MFX_REQUIRE_GPU();
    // Run from the repository root (the device script does), or from this checkout (MFX_SOURCE_DIR).
    std::filesystem::path path = "Resources/Models/default.safetensors";
    if (!std::filesystem::exists(path)) path = std::filesystem::path(MFX_SOURCE_DIR) / path;
    INFO("default model at " << path.string());
    REQUIRE(std::filesystem::exists(path));
    const Model model = loadModel(path.string());
    // Guitar-DI-like plucks (peaks up to about -4 dBFS), the input the model was trained for.
    const std::vector<float> in = traintest::pluckSignal(10 * 60 * 48000, fresh(99));
    // This high-gain model amplifies float32 rounding: on this input the real-time engine differs
    // from float64 by 2e-5 to 8.4e-5 depending on the weights and the plucks (5.7e-5 for the shipped
    // 12-layer default, 4.35e-5 for the 10-layer one before it), more than the 1e-5 of random models,
    // and the reference's own code evaluated in float32 is as far from float64 (8.6e-5 on the shipped
    // default's fixed input;
    // Tests/Train/DefaultModelTests.cpp; docs/PERFORMANCE.md,
    // "Why the default-model check is not held to 1e-5"). So the bound is the 1e-5 or three
    // times the engine's own distance from float64 on the first 2e5 samples, whichever is larger,
    // and both are printed.
    RealtimeEngine probe(model, 1);
    const std::size_t m = 200000;
    std::vector<float> prefix(m);
    probe.process(in.data(), prefix.data(), static_cast<int>(m));
    ReferenceState rs(model.config);
    const std::vector<double> ref = referenceForward(model, in.data(), nullptr, m, rs);
    const double engineErr = relL2(prefix.data(), ref.data(), m);
    CHECK(engineErr <= kEngineCeiling); // the bound below may not grow with a broken engine
    const double bound = std::max(kTolerance, 3 * engineErr);
    // The final state's bound likewise, from the engine's own float32 error on the state where this
    // signal ends (it ends at another point of a pluck's decay in every run, and a decaying state's
    // relative error grows as it shrinks: 2.5e-5 to 2.4e-4 between GPU and engine measured): the
    // engine and float64 from the engine's state at n - m over the last m samples.
    RealtimeEngine tail(model, 1);
    std::vector<float> scratch(4096);
    const std::size_t n = in.size();
    for (std::size_t t = 0; t < n - m; t += scratch.size())
        tail.process(in.data() + t, scratch.data(), static_cast<int>(std::min(scratch.size(), n - m - t)));
    ReferenceState tailRef = tail.getState(0).as<double>();
    (void)referenceForward(model, in.data() + (n - m), nullptr, m, tailRef);
    std::vector<float> tailOut(m);
    tail.process(in.data() + (n - m), tailOut.data(), static_cast<int>(m));
    const double engineStateErr = stateRelativeError(tail.getState(0), tailRef);
    CHECK(engineStateErr <= kEngineStateCeiling);
    // (and never tighter than the output's: over the last 2e5 samples the engine's state error can be
    // far below what ten minutes leave between two float32 implementations, 1.1-1.8e-5 measured
    // against a tail estimate of 3e-6)
    const double stateBound = std::max(bound, 3 * engineStateErr);
    std::printf("[errors] default model: real-time engine vs float64 on 2e5 samples %.3g, its final state over the last "
                "2e5 %.3g; GPU bounds %.3g / %.3g\n", engineErr, engineStateErr, bound, stateBound);
    checkAgainstEngine(model, in, "10 min through the default model vs real-time engine", bound, stateBound);
}

TEST_CASE("CUDA backend from the rest state (where mambafx render starts): quiet under silence, then the engine's output", "[gpu][rest]") {
    MFX_REQUIRE_GPU();
    std::filesystem::path path = "Resources/Models/default.safetensors";
    if (!std::filesystem::exists(path)) path = std::filesystem::path(MFX_SOURCE_DIR) / path;
    REQUIRE(std::filesystem::exists(path));
    const Model shipped = loadModel(path.string());
    struct Case {
        const char* name;
        Model model;
        bool amplifiesRounding; // the shipped default: bound by the engine's own float32 error
    };
    for (const Case& k : {Case{"strong random model, reference size", strongModel(referenceSize(), fresh(33)), false},
                          Case{"default model", shipped, true}}) {
        INFO(k.name);
        const State rest = engineRestState(k.model);
        // 1 s of silence, then 20 s of plucks
        std::vector<float> in(48000, 0.0f);
        const auto plucks = traintest::pluckSignal(20 * 48000, fresh(7));
        in.insert(in.end(), plucks.begin(), plucks.end());
        RealtimeEngine engine(k.model, 1);
        engine.setInitialState(rest);
        std::vector<float> rt(in.size());
        for (std::size_t t = 0; t < in.size(); t += 4096)
            engine.process(in.data() + t, rt.data() + t, static_cast<int>(std::min<std::size_t>(4096, in.size() - t)));
        // the default model amplifies float32 rounding (see the 10-minute test): 3x the engine's own
        // distance from float64 over the same samples, all of them (a bound from the first 100,000
        // alone, the silent second and one second of plucks, was 3.9e-5 for one candidate's weights
        // whose GPU-engine distance over the whole 21 s was 1.54e-4); 1e-5 for the random model
        double bound = kTolerance;
        std::vector<double> ref; // (in.size()) float64 from the same rest state
        if (k.amplifiesRounding) {
            ReferenceState rs = rest.as<double>();
            ref = referenceForward(k.model, in.data(), nullptr, in.size(), rs);
            const double engineErr = relL2(rt.data(), ref.data(), in.size());
            CHECK(engineErr <= kEngineCeiling);
            bound = std::max(kTolerance, 3 * engineErr);
            std::printf("[errors] %s from the rest state: real-time engine vs float64 %.3g\n", k.name, engineErr);
        }
        for (const Variant& v : {variants()[0], variants()[1]}) {
            INFO(v.name);
            // Straight from the engine's rest state the GPU's own rounding rings a little (the
            // default model: 2.3e-4 to 4.1e-4 measured); the render pipeline therefore settles a
            // backend that is not bitwise the engine with kSettleSamples of silence first, as here.
            // That removes the ring but not the GPU's float32 floor on the default model: its
            // chunked scan rounds differently at each position in a chunk, and this high-gain model
            // amplifies that into 0.8e-4 to 2.0e-4 (down to -74 dBFS) under silence too, the same floor
            // as its distance from the engine on music (1.5e-4 relative L2). For random models both
            // stay within the 1e-5.
            const auto wiggleOver = [&](const std::vector<float>& out) {
                double w = 0; // over the silent second, from its own last silent sample
                for (std::size_t t = 0; t < 48000; ++t) w = std::max(w, std::fabs(static_cast<double>(out[t]) - out[47999]));
                return w;
            };
            auto raw = makeGpu(k.model, 1, (1u << 18) + 7, v);
            raw->setState(0, rest);
            const double unsettled = wiggleOver(runGpu1(*raw, in));
            auto gpu = makeGpu(k.model, 1, (1u << 18) + 7, v);
            gpu->setState(0, rest);
            runGpu1(*gpu, std::vector<float>(kSettleSamples, 0.0f));
            REQUIRE(gpu->bitwiseEngine() == false);
            const std::vector<float> out = runGpu1(*gpu, in);
            const double wiggle = wiggleOver(out);
            const double err = relL2(out, rt);
            const double stateErr = stateRelativeError(gpu->getState(0), engine.getState(0));
            const double refErr = ref.empty() ? -1.0 : relL2(out.data(), ref.data(), ref.size());
            std::printf("[errors] %s, %s, from the rest state: silence within %.2g (%.2g unsettled) of its rest output; "
                        "vs the engine %.3g (state %.3g), vs float64 %.3g, bound %.3g\n", k.name, v.name, wiggle, unsettled, err,
                        stateErr, refErr, bound);
            CHECK(wiggle <= (k.amplifiesRounding ? 1e-3 : kTolerance)); // -60 dBFS / -100 dBFS
            // settling only helps, beyond float noise: on the default model, where what is left after
            // settling is the chunked scan's float32 floor (above), that floor itself varies by a few %
            // with where the chunks fall (0.000241 settled against 0.000233 unsettled measured for one
            // candidate's weights), so 10 % there
            CHECK(wiggle <= unsettled * (k.amplifiesRounding ? 1.1 : 1.001) + 1e-6);
            if (!ref.empty()) CHECK(refErr <= bound); // the GPU is as near float64 as the bound allows too
            CHECK(unsettled <= 1e-3);
            CHECK(err <= bound);
            CHECK(stateErr <= bound);
        }
    }
}
