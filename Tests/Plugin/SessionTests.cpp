// Session state (parameters + model path + model bytes) and sample-rate conversion around the model,
// through the hosted plugin.
#include "TestSupport.h"

#include <Dsp/Resampler.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace mfx;
using namespace mfx::test;

namespace {

// A session saved after the user turned knobs and loaded a model that exists only on another
// machine (the path is dead, the bytes are in the session), restored into a fresh instance: same
// plugin state, same parameters, and the same sound as the original instance restored from it.
void checkRoundTrip(PluginFormat format) {
    const Model model = testModel(21, 48000.0, 1);
    const std::string movedPath = "/nonexistent/elsewhere/amp.safetensors";
    const Signal in = testSignal(2, 12000, 12);
    const std::map<std::string, float> knobs = {{"inGain", 0.55f}, {"mix", 0.8f}, {"linked", 1.0f}, {"cond1", 0.3f}};

    HostedPlugin a(format);
    a.setModel(bytesOf(model), movedPath);
    a.prepare(48000.0, kMaxBlock, 2);
    for (const auto& [id, value] : knobs) a.setParameter(id, value); // automation while running
    runPlugin(a, testSignal(2, 8192, 1), blockPattern(512));         // the plugin picks them up
    const std::vector<std::uint8_t> saved = a.getState();
    const std::string savedXml = a.stateXml();
    CHECK(savedXml.find(movedPath) != std::string::npos);
    CHECK(savedXml.find("plugin test model 21") != std::string::npos);

    HostedPlugin b(format);
    b.setState(saved);
    CHECK(b.stateXml() == savedXml);
    b.prepare(48000.0, kMaxBlock, 2);
    a.setState(saved); // the original instance, restored from the same session
    a.prepare(48000.0, kMaxBlock, 2);
    const Signal outA = runPlugin(a, in, blockPattern(0));
    const Signal outB = runPlugin(b, in, blockPattern(441));
    CHECK(firstDifference(outA[0], outB[0]) == -1);
    CHECK(firstDifference(outA[1], outB[1]) == -1);
    CHECK(relativeError(outB[0], in[0], 0, in[0].size()) > 0.05); // the model is running
    // What the host shows (LV2 hosts learn parameter values from the plugin as it runs).
    for (const auto& [id, value] : knobs) {
        INFO("parameter " << id);
        CHECK(b.parameter(id) == Approx(value).margin(0.002)); // dB and % parameters snap to 0.1 steps
    }
}

// The offline render with resampling, as `mambafx render --quality medium` does it: time-aligned
// converters host rate -> model rate -> host rate, the tails flushed, cut to the input's length.
std::vector<float> offlineResampled(const Model& model, const std::vector<float>& in, double hostRate) {
    const double modelRate = model.config.sampleRate;
    Resampler up(hostRate, modelRate, 1, ResamplerQuality::Medium), down(modelRate, hostRate, 1, ResamplerQuality::Medium);
    std::vector<float> mid(static_cast<size_t>(in.size() * modelRate / hostRate) + 4096);
    auto r = up.process(in.data(), in.size(), mid.data(), mid.size());
    REQUIRE(r.inputUsed == in.size());
    size_t m = r.outputGenerated;
    m += up.flush(mid.data() + m, mid.size() - m);
    mid.resize(m);
    RealtimeEngine engine(model, 1);
    engine.setInitialState(engineRestState(model)); // where the plugin's engines start
    engine.process(mid.data(), mid.data(), static_cast<int>(mid.size()));
    std::vector<float> out(in.size() + 4096);
    auto d = down.process(mid.data(), mid.size(), out.data(), out.size());
    REQUIRE(d.inputUsed == mid.size());
    size_t k = d.outputGenerated;
    k += down.flush(out.data() + k, out.size() - k);
    out.resize(in.size());
    return out;
}

void checkRateMismatch(PluginFormat format) {
    const double hostRate = 44100.0;
    const Model model = testModel(22, 48000.0);
    const int n = 44100;
    const Signal in = testSignal(2, n, 13);
    const std::vector<float> reference = offlineResampled(model, in[0], hostRate);
    RealtimeEngine restEngine(model, 1);
    restEngine.setInitialState(engineRestState(model));
    const float rest = restEngine.restOutput(); // the model's constant output under silence

    for (int block : {1, 0}) {
        INFO(toString(format) << ", block size " << (block ? std::to_string(block) : "random"));
        auto plugin = pluginWithModel(format, model, hostRate, 2);
        const Signal out = runPlugin(*plugin, in, blockPattern(block));
        const int latency = plugin->latency(); // LV2 reports it through a port, known after a run
        CHECK(latency > 0);
        CHECK(latency < 1000);
        // The plugin's output is the offline render delayed by exactly the reported latency.
        auto errorAt = [&](int lag) {
            std::vector<float> shifted(out[0].begin() + lag, out[0].end());
            return relativeError(shifted, reference, 2000, static_cast<size_t>(n - 4000 - lag));
        };
        const double error = errorAt(latency);
        INFO("latency " << latency << ", relative error " << error);
        std::printf("%s, 44.1 kHz host, 48 kHz model, blocks %s: latency %d samples, relative L2 error vs. the offline "
                    "render %.2e\n", toString(format), block ? std::to_string(block).c_str() : "random", latency, error);
        CHECK(error < 1e-6); // 1.3e-7 here: float rounding of the offset the chain takes out and adds back (RateChain.h)
        for (int lag : {latency - 2, latency - 1, latency + 1, latency + 2})
            if (lag >= 0) CHECK(errorAt(lag) > 10 * error);
        // Before the converters deliver, the model's rest output, not silence: no step at the start.
        INFO("rest output " << rest);
        CHECK(rest != 0.0f); // a model with an offset, so the check below means something
        for (int i = 0; i < latency; ++i) CHECK(out[0][static_cast<size_t>(i)] == rest);
    }
}

// A conditioned model at a non-model host rate, under silence: every output sample is the model's
// rest output at the knobs' values, from the first (the chain's offset is measured with them).
void checkConditionedStart(PluginFormat format) {
    const Model model = testModel(23, 48000.0, 2);
    // knobs away from the model's defaults, set before prepare() (where the engine is built)
    auto plugin = std::make_unique<HostedPlugin>(format);
    plugin->setModel(bytesOf(model));
    plugin->setParameters({{"cond1", 0.2f}, {"cond2", 0.9f}});
    plugin->prepare(44100.0, kMaxBlock, 2);
    // the knobs in the model's units (testModel's ranges: knob i from -1 - i to 2 + i); LV2 hosts
    // learn the values back only as the plugin runs, so they are not read back here
    const std::vector<float> knobs = {-1.0f + 3.0f * 0.2f, -2.0f + 5.0f * 0.9f};
    RealtimeEngine restEngine(model, 1);
    restEngine.setConditioning(knobs.data());
    restEngine.setInitialState(engineRestState(model, knobs.data()));
    const float rest = restEngine.restOutput();
    RealtimeEngine knobsUnset(model, 1); // the same state, the conditioning left at 0 while measuring
    knobsUnset.setInitialState(engineRestState(model, knobs.data()));
    INFO(toString(format) << ": knobs " << knobs[0] << ", " << knobs[1] << "; rest output " << rest
                          << " (measured with the conditioning at 0: " << knobsUnset.restOutput() << ")");
    REQUIRE(std::fabs(rest - knobsUnset.restOutput()) > 1e-3); // the knobs matter for this model
    const Signal out = runPlugin(*plugin, Signal(2, std::vector<float>(8820, 0.0f)), blockPattern(0));
    for (const auto& ch : out) CHECK(std::all_of(ch.begin(), ch.end(), [&](float v) { return v == rest; }));
}

} // namespace

TEST_CASE("VST3: a conditioned model at a 44.1 kHz host starts at its rest output at the knobs' values",
          "[plugin][vst3][resample]") {
    checkConditionedStart(PluginFormat::VST3);
}
TEST_CASE("LV2: a conditioned model at a 44.1 kHz host starts at its rest output at the knobs' values",
          "[plugin][lv2][resample]") {
    checkConditionedStart(PluginFormat::LV2);
}

TEST_CASE("VST3: session state round trip (parameters, model path and bytes, moved session)", "[plugin][vst3][state]") {
    checkRoundTrip(PluginFormat::VST3);
}
TEST_CASE("LV2: session state round trip (parameters, model path and bytes, moved session)", "[plugin][lv2][state]") {
    checkRoundTrip(PluginFormat::LV2);
}

TEST_CASE("VST3: 44.1 kHz host, 48 kHz model: reported latency and the offline render with resampling",
          "[plugin][vst3][resample]") {
    checkRateMismatch(PluginFormat::VST3);
}
TEST_CASE("LV2: 44.1 kHz host, 48 kHz model: reported latency and the offline render with resampling",
          "[plugin][lv2][resample]") {
    checkRateMismatch(PluginFormat::LV2);
}
