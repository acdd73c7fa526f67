// The built plugin, hosted through JUCE's plugin hosting as a DAW would (VST3 and LV2): identity,
// bitwise equality with the core engine at the model's rate for many block patterns, parameters,
// conditioning, linked stereo, bypass, pass-through without a model, and non-finite input.
#include "TestSupport.h"

#include <catch2/catch.hpp>

#include <limits>

using namespace mfx;
using namespace mfx::test;

namespace {

constexpr int kSamples = 24000; // half a second at 48 kHz per run

void checkIdentity(PluginFormat format) {
    HostedPlugin plugin(format);
    CHECK(plugin.name() == "MambaFX");
    if (format == PluginFormat::VST3) {
        CHECK(plugin.version() == MFX_VERSION); // JUCE's LV2 hosting reports no version
        CHECK(plugin.supportsChannels(1));
    } else {
        CHECK_FALSE(plugin.supportsChannels(1)); // an LV2's ports are fixed in its TTL: stereo
    }
    CHECK(plugin.supportsChannels(2));
    CHECK_FALSE(plugin.supportsChannels(6));
    REQUIRE(plugin.numParameters() >= 9);
    CHECK(plugin.parameterName("cond1") == "Control 1");
    CHECK(plugin.parameterName("cond4") == "Control 4");
    CHECK(plugin.parameterName("inGain") == "Input gain");
    CHECK(plugin.parameterName("outGain") == "Output gain");
    CHECK(plugin.parameterName("mix") == "Mix");
    CHECK(plugin.parameterName("bypass") == "Bypass");
    CHECK(plugin.parameterName("linked") == "Stereo linked");
}

void checkBitwise(PluginFormat format, int channels) {
    const Model model = testModel(11);
    const Signal in = testSignal(channels, kSamples, 5);
    const Signal expected = engineOutput(model, in);
    REQUIRE(relativeError(expected[0], in[0], 0, kSamples) > 0.1); // the model really changes the sound

    for (int block : {1, 32, 441, 512, 4096, 0}) {
        INFO(toString(format) << ", " << channels << " channel(s), block size " << (block ? std::to_string(block) : "random"));
        auto plugin = pluginWithModel(format, model, 48000.0, channels);
        CHECK(plugin->latency() == 0);
        const Signal out = runPlugin(*plugin, in, blockPattern(block));
        for (int c = 0; c < channels; ++c) {
            const long diff = firstDifference(out[static_cast<size_t>(c)], expected[static_cast<size_t>(c)]);
            INFO("channel " << c << ": " << describeDifference(out[static_cast<size_t>(c)], expected[static_cast<size_t>(c)])
                            << " (input " << in[static_cast<size_t>(c)][static_cast<size_t>(std::max(0L, diff))] << ")");
            CHECK(diff == -1);
        }
    }
}

void checkConditioning(PluginFormat format) {
    const Model model = testModel(12, 48000.0, 2);
    const Signal in = testSignal(2, kSamples, 6);
    auto plugin = std::make_unique<HostedPlugin>(format);
    plugin->setModel(bytesOf(model));
    plugin->setParameters({{"cond1", 0.25f}, {"cond2", 0.75f}});
    plugin->prepare(48000.0, kMaxBlock, 2);
    // Knob k of this model ranges -1-k .. 2+k (TestSupport.h).
    const std::vector<float> cond = {-1.0f + 0.25f * (2.0f - -1.0f), -2.0f + 0.75f * (3.0f - -2.0f)};
    const Signal expected = engineOutput(model, in, cond);
    const Signal out = runPlugin(*plugin, in, blockPattern(0));
    CHECK(firstDifference(out[0], expected[0]) == -1);
    CHECK(firstDifference(out[1], expected[1]) == -1);
}

// Input gain, mix and output gain as `mambafx render` applies them:
// y = outGain * (mix * model(inGain * x) + (1 - mix) * x).
void checkGainsAndMix(PluginFormat format) {
    const Model model = testModel(13);
    const Signal in = testSignal(2, kSamples, 7);
    auto plugin = std::make_unique<HostedPlugin>(format);
    plugin->setModel(bytesOf(model));
    // dB params range -24..24: normalised 0.625 = +6 dB, 0.4375 = -3 dB; mix 0..100: 0.5 = 50 %.
    plugin->setParameters({{"inGain", 0.625f}, {"outGain", 0.4375f}, {"mix", 0.5f}});
    plugin->prepare(48000.0, kMaxBlock, 2);
    const float inGain = std::pow(10.0f, 6.0f / 20.0f), outGain = std::pow(10.0f, -3.0f / 20.0f);
    Signal gained = in;
    for (auto& ch : gained)
        for (auto& x : ch) x *= inGain;
    const Signal wet = engineOutput(model, gained);
    const Signal out = runPlugin(*plugin, in, blockPattern(441));
    for (size_t c = 0; c < 2; ++c) {
        std::vector<float> expected(in[c].size());
        for (size_t i = 0; i < expected.size(); ++i) expected[i] = outGain * (0.5f * wet[c][i] + 0.5f * in[c][i]);
        CHECK(relativeError(out[c], expected, 0, expected.size()) < 1e-5);
    }
}

void checkLinkedAndBypass(PluginFormat format) {
    const Model model = testModel(14);
    const Signal in = testSignal(2, kSamples, 8);
    {
        auto plugin = std::make_unique<HostedPlugin>(format);
        plugin->setModel(bytesOf(model));
        plugin->setParameters({{"linked", 1.0f}});
        plugin->prepare(48000.0, kMaxBlock, 2);
        Signal mono(1, std::vector<float>(in[0].size()));
        for (size_t i = 0; i < mono[0].size(); ++i) mono[0][i] = 0.5f * (in[0][i] + in[1][i]);
        const Signal expected = engineOutput(model, mono);
        const Signal out = runPlugin(*plugin, in, blockPattern(0));
        CHECK(firstDifference(out[0], expected[0]) == -1);
        CHECK(firstDifference(out[1], expected[0]) == -1);
    }
    {
        auto plugin = std::make_unique<HostedPlugin>(format);
        plugin->setModel(bytesOf(model));
        plugin->prepare(48000.0, kMaxBlock, 2);
        plugin->setHostBypass(true); // as a user would, while running
        const Signal out = runPlugin(*plugin, in, blockPattern(32));
        // The bypass arrives with the first block and fades in over 30 ms; after that, the input exactly.
        for (size_t c = 0; c < 2; ++c) {
            const std::vector<float> tailOut(out[c].begin() + 2048, out[c].end()), tailIn(in[c].begin() + 2048, in[c].end());
            CHECK(firstDifference(tailOut, tailIn) == -1);
        }
    }
}

void checkPassThroughWithoutModel(PluginFormat format) {
    HostedPlugin plugin(format);
    plugin.setModel(bytesOf(testModel(15)));
    plugin.setState(plugin.stateWithoutModel(plugin.getState())); // a session saved with no model
    CHECK(plugin.stateXml().find("<MODEL") == std::string::npos);
    plugin.prepare(48000.0, kMaxBlock, 2);
    const Signal in = testSignal(2, kSamples, 9);
    const Signal out = runPlugin(plugin, in, blockPattern(0));
    CHECK(plugin.latency() == 0);
    CHECK(firstDifference(out[0], in[0]) == -1);
    CHECK(firstDifference(out[1], in[1]) == -1);
}

void checkFailedLoadKeepsModel(PluginFormat format) {
    const Model model = testModel(17);
    const Signal in = testSignal(2, kSamples, 11);
    const Signal expected = engineOutput(model, in);
    auto plugin = pluginWithModel(format, model, 48000.0, 2);
    std::vector<std::uint8_t> broken = bytesOf(model);
    broken.resize(broken.size() / 2); // truncated file: the loader rejects it
    const std::vector<std::uint8_t> garbage(300, 0x5a);
    const int half = kSamples / 2;
    Signal first(2), second(2);
    for (int c = 0; c < 2; ++c) {
        first[c].assign(in[c].begin(), in[c].begin() + half);
        second[c].assign(in[c].begin() + half, in[c].end());
    }
    const Signal out1 = runPlugin(*plugin, first, blockPattern(256));
    plugin->setModel(broken, "/nowhere/broken.safetensors");
    plugin->setModel(garbage);
    plugin->setModel({}, "/dev/zero"); // a session naming a device: refused, not read forever
    const Signal out2 = runPlugin(*plugin, second, blockPattern(256));
    for (int c = 0; c < 2; ++c) {
        std::vector<float> out(out1[c]);
        out.insert(out.end(), out2[c].begin(), out2[c].end());
        CHECK(firstDifference(out, expected[static_cast<size_t>(c)]) == -1);
    }
    CHECK(plugin->stateXml().find(std::string("plugin test model 17")) != std::string::npos);
}

void checkNonFiniteInput(PluginFormat format) {
    const Model model = testModel(16);
    Signal in = testSignal(1, kSamples, 10);
    for (int i = 1000; i < 1100; ++i) in[0][static_cast<size_t>(i)] = std::numeric_limits<float>::quiet_NaN();
    in[0][5000] = std::numeric_limits<float>::infinity();
    in[0][5001] = -std::numeric_limits<float>::infinity();
    in[0][6000] = 1e30f;
    auto plugin = pluginWithModel(format, model, 48000.0, 1);
    const Signal out = runPlugin(*plugin, in, blockPattern(0));
    bool finite = true;
    for (float y : out[0]) finite = finite && std::isfinite(y);
    CHECK(finite);
    CHECK(firstDifference(out[0], engineOutput(model, in)[0]) == -1); // sanitised exactly like the engine
    // With dry signal in the mix (50 % mix, -3 dB output) the dry path is sanitised too.
    auto mixed = pluginWithModel(format, model, 48000.0, 1);
    mixed->setParameters({{"outGain", 0.4375f}, {"mix", 0.5f}});
    const Signal outMixed = runPlugin(*mixed, in, blockPattern(0));
    bool mixedFinite = true;
    for (float y : outMixed[0]) mixedFinite = mixedFinite && std::isfinite(y);
    CHECK(mixedFinite);
}

} // namespace

TEST_CASE("VST3: identity, layouts and parameters", "[plugin][vst3]") { checkIdentity(PluginFormat::VST3); }
TEST_CASE("LV2: identity, layouts and parameters", "[plugin][lv2]") { checkIdentity(PluginFormat::LV2); }

TEST_CASE("VST3: stereo output is bitwise the engine's for block sizes 1, 32, 441, 512, 4096, random", "[plugin][vst3]") {
    checkBitwise(PluginFormat::VST3, 2);
}
TEST_CASE("VST3: mono output is bitwise the engine's for block sizes 1, 32, 441, 512, 4096, random", "[plugin][vst3]") {
    checkBitwise(PluginFormat::VST3, 1);
}
TEST_CASE("LV2: stereo output is bitwise the engine's for block sizes 1, 32, 441, 512, 4096, random", "[plugin][lv2]") {
    checkBitwise(PluginFormat::LV2, 2);
}

TEST_CASE("VST3: conditioning knobs map to the model's ranges", "[plugin][vst3]") { checkConditioning(PluginFormat::VST3); }
TEST_CASE("LV2: conditioning knobs map to the model's ranges", "[plugin][lv2]") { checkConditioning(PluginFormat::LV2); }

TEST_CASE("VST3: input gain, mix and output gain as mambafx render applies them", "[plugin][vst3]") {
    checkGainsAndMix(PluginFormat::VST3);
}
TEST_CASE("LV2: input gain, mix and output gain as mambafx render applies them", "[plugin][lv2]") {
    checkGainsAndMix(PluginFormat::LV2);
}

TEST_CASE("VST3: linked stereo and bypass", "[plugin][vst3]") { checkLinkedAndBypass(PluginFormat::VST3); }
TEST_CASE("LV2: linked stereo and bypass", "[plugin][lv2]") { checkLinkedAndBypass(PluginFormat::LV2); }

TEST_CASE("VST3: a session without a model passes audio through unchanged", "[plugin][vst3]") {
    checkPassThroughWithoutModel(PluginFormat::VST3);
}
TEST_CASE("LV2: a session without a model passes audio through unchanged", "[plugin][lv2]") {
    checkPassThroughWithoutModel(PluginFormat::LV2);
}

TEST_CASE("VST3: a model that fails to load keeps the current one running", "[plugin][vst3]") {
    checkFailedLoadKeepsModel(PluginFormat::VST3);
}

TEST_CASE("VST3: non-finite input is sanitised like the engine does and stays finite", "[plugin][vst3]") {
    checkNonFiniteInput(PluginFormat::VST3);
}

// A host's parameter change while audio runs reaches the processor: VST3 through its parameter
// changes, LV2 through patch:Set on the control atom port (JUCE 7's LV2 wrapper declares parameters
// as patch:writable properties, not control ports). The other hosting tests set LV2 parameters
// through the saved state, so this is the one that covers the live path hosts automate with.
TEST_CASE("VST3 and LV2: a host parameter change during playback takes effect", "[plugin][vst3][lv2]") {
    const Model model = testModel(13);
    const Signal in = testSignal(2, kSamples, 7);
    for (auto format : {PluginFormat::VST3, PluginFormat::LV2}) {
        INFO(toString(format));
        auto plugin = std::make_unique<HostedPlugin>(format);
        plugin->setModel(bytesOf(model));
        plugin->prepare(48000.0, kMaxBlock, 2);
        const Signal before = runPlugin(*plugin, in, blockPattern(441));
        plugin->setParameter("outGain", 0.0f); // -24 dB
        plugin->pumpMessages(50);
        const Signal after = runPlugin(*plugin, in, blockPattern(441));
        CHECK(plugin->parameter("outGain") == 0.0f);
        double a = 0, b = 0; // over the second half: the 50 ms gain ramp is long over
        for (size_t c = 0; c < 2; ++c)
            for (size_t i = in[c].size() / 2; i < in[c].size(); ++i) {
                a += static_cast<double>(after[c][i]) * after[c][i];
                b += static_cast<double>(before[c][i]) * before[c][i];
            }
        const double changeDb = 10 * std::log10(a / b);
        INFO("output level change " << changeDb << " dB");
        CHECK(std::abs(changeDb - -24.0) < 0.05);
    }
}
