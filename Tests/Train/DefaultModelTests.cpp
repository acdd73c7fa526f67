// The bundled default model: it loads, has the metadata docs/MODELS.md promises, is the `standard`
// size of `mambafx train` (Source/Train/Sizes.h), and its recorded validation ESR is what the
// real-time engine measures on the amp-capture validation pair (whole file, state from zero, as the
// Capture issue defines it; also from the model's rest state, where the products start) when that
// data set is present next to the repository.
#include <common/AudioFile.h>

#include <Engine/RealtimeEngine.h>
#include <Engine/RestState.h>
#include <Model/ModelFile.h>
#include <Reference/Reference.h>
#include <Train/Sizes.h>

#include "../Core/TestSignals.h"
#include "../Core/TrainSignals.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

using namespace mfx;
namespace fs = std::filesystem;

TEST_CASE("default model: metadata, size, and its validation ESR measured by the engine", "[train]") {
    const fs::path path = fs::path(MFX_SOURCE_DIR) / "Resources/Models/default.safetensors";
    REQUIRE(fs::exists(path));
    const Model m = loadModel(path.string());
    const Config standard = *train::sizePreset("standard");
    CHECK(m.config.dModel == standard.dModel);
    CHECK(m.config.nLayers == standard.nLayers);
    CHECK(m.config.dState == standard.dState);
    CHECK(m.config.expand == standard.expand);
    CHECK(m.config.dConv == standard.dConv);
    CHECK(m.config.dtRank == standard.dtRank);
    CHECK(m.config.nCond == 0);
    CHECK(m.config.sampleRate == 48000.0);
    for (const char* key : {"name", "description", "author", "license", "sample_rate", "validation_esr", "train_time_s", "size",
                            "date", "level_calibration", "train_hardware"}) {
        INFO(key);
        CHECK(m.metadata.count(key) == 1);
    }
    CHECK(m.metadata.at("author") == "MambaFX");
    const double claimed = std::stod(m.metadata.at("validation_esr"));

    const fs::path data = fs::path(MFX_SOURCE_DIR) / "../shared/data/amp-capture";
    if (!fs::exists(data / "val_input.flac")) {
        WARN("amp-capture data not found at " << data.string() << ": the ESR claim is not re-measured");
        return;
    }
    const auto in = apps::readAudioFile(data / "val_input.flac");
    const auto tg = apps::readAudioFile(data / "val_target.flac");
    REQUIRE(in.samples.size() == tg.samples.size());
    const auto esr = [&](bool atRest) {
        RealtimeEngine engine(m, 1);
        if (atRest) engine.setInitialState(engineRestState(m));
        std::vector<float> out(in.samples.size());
        engine.process(in.samples.data(), out.data(), static_cast<int>(out.size()));
        double num = 0, den = 0;
        for (std::size_t t = 0; t < out.size(); ++t) {
            const double e = static_cast<double>(tg.samples[t]) - out[t];
            num += e * e;
            den += static_cast<double>(tg.samples[t]) * tg.samples[t];
        }
        return num / den;
    };
    const double measured = esr(false);
    INFO("claimed " << claimed << ", measured with the real-time engine " << measured);
    CHECK(std::fabs(measured - claimed) <= 1e-4 + 1e-3 * claimed);
    // The data set's bar for a "good" capture (README: excellent <= 0.01, good <= 0.03): a retrained
    // default must not ship worse than that.
    CHECK(measured <= 0.03);
    // What the products render (they start at the rest state): without the settling burst of the
    // zero state over the file's silent first second, the ESR is lower here (recorded as
    // "validation_esr_rest").
    const double atRest = esr(true);
    std::printf("[train] default model validation ESR %.6f from the zero state, %.6f from its rest state\n", measured, atRest);
    CHECK(atRest <= measured);
    REQUIRE(m.metadata.count(meta::validationEsrRest) == 1);
    CHECK(std::fabs(atRest - std::stod(m.metadata.at(meta::validationEsrRest))) <= 1e-4 + 1e-3 * atRest);
}

TEST_CASE("default model: from its rest state silence renders as a constant, from zero it settles audibly", "[train]") {
    const Model m = loadModel((fs::path(MFX_SOURCE_DIR) / "Resources/Models/default.safetensors").string());
    const std::vector<float> silence(48000, 0.0f); // 1 s
    const auto maxAway = [&](const State* start, float level) {
        RealtimeEngine engine(m, 1);
        if (start) engine.setInitialState(*start);
        std::vector<float> out(silence.size());
        engine.process(silence.data(), out.data(), static_cast<int>(silence.size()));
        double away = 0;
        for (float v : out) away = std::max(away, std::fabs(static_cast<double>(v) - level));
        return std::pair<double, float>{away, out[0]};
    };
    const State settled = engineRestState(m), rounded = restState(m);
    const float level = maxAway(&settled, 0.0f).second; // its output under silence
    const double atRest = maxAway(&settled, level).first;
    const double fromRounded = maxAway(&rounded, level).first;
    const double fromZero = maxAway(nullptr, level).first;
    std::printf("[train] default model under 1 s of silence, away from its rest output %.7f: from engineRestState %.2g, "
                "from the rounded float64 rest point %.2g, from the zero state %.3f\n",
                static_cast<double>(level), atRest, fromRounded, fromZero);
    CHECK(atRest <= 1e-6);      // settled: constant (measured: to the bit)
    CHECK(fromRounded <= 1e-3); // the float64 point rounded: a ring of float32 rounding (measured 1.8e-4)
    CHECK(fromZero > 0.1);      // why: from zero this model settles with a burst (measured 0.62)
}

// What float32 rounding alone costs on the shipped model, and the premise of the GPU test's bound for
// it (Tests/Gpu/GpuEngineTests.cpp: three times the engine's own distance from float64, as the issue's
// 1e-5 cannot hold there): on this deep high-gain model the reference's own code evaluated in float32
// is about 8e-5 from float64 (12 layers; 4.6e-5 for the 10-layer default before it), so independent
// float32 implementations cannot agree to 1e-5. Holds the
// real-time engine to that floor (within 2x) and says when a better-conditioned default would let the
// GPU bound go back to 1e-5. Numbers: docs/PERFORMANCE.md, "Why the default-model check is not held to 1e-5".
TEST_CASE("default model: float32 rounding alone is what separates the engine from float64", "[train]") {
    const Model m = loadModel((fs::path(MFX_SOURCE_DIR) / "Resources/Models/default.safetensors").string());
    const std::size_t n = 200000; // the GPU test's prefix: its plucked input's first 2e5 samples (same seed)
    const std::vector<float> in = traintest::pluckSignal(n, 99);
    ReferenceState rs(m.config);
    const std::vector<double> ref = referenceForward(m, in.data(), nullptr, n, rs);
    State fs32(m.config);
    const std::vector<double> plain64 = referenceForwardFloat32(m, in.data(), nullptr, n, fs32);
    const std::vector<float> plain(plain64.begin(), plain64.end()); // float32 values: exact
    RealtimeEngine engine(m, 1);
    std::vector<float> out(n);
    engine.process(in.data(), out.data(), static_cast<int>(n));
    const double plainErr = test::relativeL2(plain, ref), engineErr = test::relativeL2(out, ref);
    std::printf("[errors] default model, 2e5 samples vs float64: plain float32 %.3g (final state %.3g), real-time engine %.3g\n",
                plainErr, stateRelativeError(fs32, rs), engineErr);
    INFO("plain float32 " << plainErr << ", engine " << engineErr);
    if (plainErr <= 1e-5)
        WARN("plain float32 is within 1e-5 of float64 on this default model: the GPU default-model test's bound "
             "(Tests/Gpu/GpuEngineTests.cpp) can go back to the issue's 1e-5");
    CHECK(engineErr <= 2 * plainErr); // 7.34e-5 against 8.62e-5 for the shipped default (12 layers, seven runs, 2026-12-03)
    CHECK(engineErr <= 1e-4);
}
