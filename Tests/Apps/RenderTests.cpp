// What `mambafx render` writes: bitwise the core's output at the model's rate, each channel with its
// own state (from the model's rest state, or zero with --initial-state zero), time-aligned and length-preserving sample rate conversion, gains, dry/wet mix and
// output formats.
#include "AppTestUtil.h"

#include <Dsp/Resampler.h>

#include <catch2/catch.hpp>

#include <samplerate.h>
#include <sndfile.h>

#include <cmath>
#include <cstring>

#include "../Core/TestSignals.h"

using namespace mfx;
using mfx::test::bitwiseEqual;
using namespace mfx::apptest;
using Catch::Matchers::Contains;

namespace {

constexpr int kFloatWav = SF_FORMAT_WAV | SF_FORMAT_FLOAT;

RunResult render(const fs::path& model, const fs::path& in, const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"render", "--model", model.string(), in.string(), "-o", out.string(), "--device", "cpu"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runMambafx(args);
}

// libsamplerate's one-shot converter (src_simple), cut/padded to `frames`: the reference for the
// streaming path.
std::vector<float> convertWhole(const std::vector<float>& x, double from, double to, std::size_t frames) {
    std::vector<float> y(static_cast<std::size_t>(std::ceil(x.size() * to / from)) + 64);
    SRC_DATA d{};
    d.data_in = x.data();
    d.input_frames = static_cast<long>(x.size());
    d.data_out = y.data();
    d.output_frames = static_cast<long>(y.size());
    d.src_ratio = to / from;
    REQUIRE(src_simple(&d, SRC_SINC_BEST_QUALITY, 1) == 0);
    y.resize(static_cast<std::size_t>(d.output_frames_gen));
    y.resize(frames, 0.0f);
    return y;
}

} // namespace

TEST_CASE("render of a long mono float WAV is bitwise the core's output", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 21);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const auto x = noiseSignal(150001, 5); // > 2 windows of 65536 frames, odd length
    writeAudio(dir / "in.wav", x, 1, 48000, kFloatWav);

    const auto r = render(modelPath, dir / "in.wav", dir / "out.wav", {"--threads", "2"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Contains("x real-time"));
    const Audio y = readAudio(dir / "out.wav");
    CHECK(y.format == kFloatWav);
    CHECK(y.sampleRate == 48000);
    REQUIRE(y.frames() == x.size());
    CHECK(bitwiseEqual(y.samples, renderOffline(model, x)));
    CHECK(bitwiseEqual(y.samples, renderRealtime(model, x, 512)));
    CHECK(tempFilesIn(dir.path()).empty());
}

TEST_CASE("render --scan chunked (time-parallel) is within 1e-5 of the default path", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 22);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const auto x = noiseSignal(200003, 6); // several windows: state carried from window to window
    writeAudio(dir / "in.wav", x, 1, 48000, kFloatWav);
    const auto r = render(modelPath, dir / "in.wav", dir / "out.wav", {"--threads", "2", "--scan", "chunked"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const Audio y = readAudio(dir / "out.wav");
    REQUIRE(y.frames() == x.size());
    const auto lanes = renderOffline(model, x);
    CHECK(test::relativeL2(y.samples, std::vector<double>(lanes.begin(), lanes.end())) <= 1e-5);
    CHECK(!bitwiseEqual(y.samples, lanes)); // the chunked scan did run (it re-associates the recurrence)
    CHECK(render(modelPath, dir / "in.wav", dir / "out2.wav", {"--scan", "sideways"}).code == 2);
}

TEST_CASE("render of stereo and multichannel files gives every channel its own state", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 22);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const int channels = GENERATE(2, 3);
    std::vector<std::vector<float>> in;
    for (int c = 0; c < channels; ++c) in.push_back(noiseSignal(70000, 100 + static_cast<std::uint64_t>(c), 0.2f + 0.3f * c));
    writeAudio(dir / "in.wav", interleave(in), channels, 48000, kFloatWav);

    const auto r = render(modelPath, dir / "in.wav", dir / "out.wav");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const Audio y = readAudio(dir / "out.wav");
    REQUIRE(y.channels == channels);
    REQUIRE(y.frames() == 70000);
    for (int c = 0; c < channels; ++c) {
        INFO("channel " << c);
        CHECK(bitwiseEqual(y.channel(c), renderRealtime(model, in[static_cast<std::size_t>(c)])));
    }
    // A shared state would make channel 1 depend on channel 0: check it does not match a render of
    // the channels one after the other through one state.
    std::vector<float> chained = in[0];
    chained.insert(chained.end(), in[1].begin(), in[1].end());
    const auto serial = renderRealtime(model, chained);
    CHECK_FALSE(bitwiseEqual(y.channel(1), std::vector<float>(serial.begin() + 70000, serial.end())));
}

TEST_CASE("render resamples to the model's rate and back: same length, time-aligned", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 23);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const std::size_t n = 100003; // several windows at 44.1 kHz
    const auto x = sineMix(n, 44100.0, 9);
    writeAudio(dir / "in.wav", x, 1, 44100, kFloatWav);

    const auto r = render(modelPath, dir / "in.wav", dir / "out.wav");
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Contains("resampled"));
    const Audio y = readAudio(dir / "out.wav");
    CHECK(y.sampleRate == 44100);
    REQUIRE(y.frames() == n);

    // Reference: the whole file (followed by silence) converted to 48 kHz at once, rendered by the
    // real-time engine (from the rest state), converted back at once around the model's rest output
    // (y - rest converted, rest added back: the rest output continues before the file's start, no
    // step), cut to the input's length.
    std::vector<float> padded = x;
    padded.resize(n + 2000, 0.0f);
    const auto x48 = convertWhole(padded, 44100.0, 48000.0, static_cast<std::size_t>(std::llround((n + 2000) * 48000.0 / 44100.0)));
    auto y48 = renderRealtime(model, x48);
    const float rest = renderRealtime(model, std::vector<float>(16, 0.0f))[0];
    for (float& v : y48) v -= rest;
    auto expected = convertWhole(y48, 48000.0, 44100.0, n);
    for (float& v : expected) v += rest;
    const double err = relativeL2(y.samples, expected);
    double maxErr = 0.0;
    for (std::size_t i = 0; i < n; ++i) maxErr = std::max(maxErr, static_cast<double>(std::abs(y.samples[i] - expected[i])));
    INFO("vs the rendered-at-48k signal converted: relative L2 error " << err << ", max error " << maxErr);
    CHECK(err < 1e-5);
    CHECK(maxErr < 1e-4); // including the last frames
    // And it is not trivially close: the model changes the signal.
    CHECK(relativeL2(y.samples, x) > 1e-2);
}

TEST_CASE("a resampled render starts at the model's rest output: no step or ringing at the file's start", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 23);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const float rest = renderRealtime(model, std::vector<float>(16, 0.0f))[0];
    INFO("the test model's rest output (its output under silence from the rest state): " << rest);
    REQUIRE(std::abs(rest) > 1e-3f); // a DC offset the down-converter would otherwise ring on
    const int rate = GENERATE(44100, 96000);
    auto x = sineMix(30000, rate, 5);
    std::fill(x.begin(), x.begin() + 10000, 0.0f); // silence, then music
    writeAudio(dir / "in.wav", x, 1, rate, kFloatWav);
    const auto r = render(modelPath, dir / "in.wav", dir / "out.wav");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto y = readAudio(dir / "out.wav").samples;
    REQUIRE(y.size() == x.size());
    float worst = 0.0f; // over the lead-in, minus the converters' reach into the music after it
    for (std::size_t t = 0; t < 9000; ++t) worst = std::max(worst, std::abs(y[t] - rest));
    INFO("at " << rate << " Hz, largest distance from the rest output over the silent lead-in: " << worst);
    CHECK(worst <= 1e-6f * std::max(1.0f, std::abs(rest)));
}

TEST_CASE("dry/wet mix lines the dry signal up with the wet one, also when resampling", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 24);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const int rate = GENERATE(48000, 44100);
    const auto x = sineMix(90000, rate, 4);
    writeAudio(dir / "in.wav", x, 1, rate, kFloatWav);

    REQUIRE(render(modelPath, dir / "in.wav", dir / "wet.wav").code == 0);
    REQUIRE(render(modelPath, dir / "in.wav", dir / "dry.wav", {"--mix", "0"}).code == 0);
    REQUIRE(render(modelPath, dir / "in.wav", dir / "half.wav", {"--mix", "0.25"}).code == 0);
    const auto wet = readAudio(dir / "wet.wav").samples;
    REQUIRE(wet.size() == x.size());
    const auto dry = readAudio(dir / "dry.wav").samples;
    const auto half = readAudio(dir / "half.wav").samples;
    CHECK(bitwiseEqual(dry, x)); // mix 0 is the input, sample for sample
    REQUIRE(half.size() == x.size());
    double maxDiff = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i)
        maxDiff = std::max(maxDiff, std::abs(half[i] - (0.25 * wet[i] + 0.75 * x[i])));
    CHECK(maxDiff < 1e-6);
}

TEST_CASE("input and output gains are applied before the model and after the mix", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 25);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const auto x = noiseSignal(20000, 8);
    writeAudio(dir / "in.wav", x, 1, 48000, kFloatWav);
    REQUIRE(render(modelPath, dir / "in.wav", dir / "out.wav", {"--input-gain", "-6", "--output-gain=3.5"}).code == 0);

    const float gIn = static_cast<float>(std::pow(10.0, -6.0 / 20.0));
    const float gOut = static_cast<float>(std::pow(10.0, 3.5 / 20.0));
    std::vector<float> scaled(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) scaled[i] = x[i] * gIn;
    auto expected = renderRealtime(model, scaled);
    for (auto& v : expected) v *= gOut;
    CHECK(bitwiseEqual(readAudio(dir / "out.wav").samples, expected));
}

TEST_CASE("output format and bit depth: same as the input unless asked", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 26);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const auto x = noiseSignal(9000, 2, 0.3f);
    writeAudio(dir / "in16.wav", x, 1, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    writeAudio(dir / "inf.wav", x, 1, 48000, kFloatWav);

    REQUIRE(render(modelPath, dir / "in16.wav", dir / "a.wav").code == 0);
    CHECK(readAudio(dir / "a.wav").format == (SF_FORMAT_WAV | SF_FORMAT_PCM_16));
    REQUIRE(render(modelPath, dir / "in16.wav", dir / "b.wav", {"--bit-depth", "24"}).code == 0);
    CHECK(readAudio(dir / "b.wav").format == (SF_FORMAT_WAV | SF_FORMAT_PCM_24));
    REQUIRE(render(modelPath, dir / "in16.wav", dir / "c.aiff", {"--bit-depth", "float"}).code == 0);
    CHECK(readAudio(dir / "c.aiff").format == (SF_FORMAT_AIFF | SF_FORMAT_FLOAT));
    REQUIRE(render(modelPath, dir / "in16.wav", dir / "d.flac").code == 0); // format from the name
    CHECK(readAudio(dir / "d.flac").format == (SF_FORMAT_FLAC | SF_FORMAT_PCM_16));
    const auto e = render(modelPath, dir / "inf.wav", dir / "e.flac"); // FLAC cannot store float
    REQUIRE(e.code == 0);
    CHECK_THAT(e.err, Contains("note:") && Contains("24-bit"));
    CHECK(readAudio(dir / "e.flac").format == (SF_FORMAT_FLAC | SF_FORMAT_PCM_24));
    // -o with the input's extension keeps its container: WAVE_FORMAT_EXTENSIBLE stays (was plain WAV)
    writeAudio(dir / "inx.wav", x, 1, 48000, SF_FORMAT_WAVEX | SF_FORMAT_PCM_24);
    REQUIRE(render(modelPath, dir / "inx.wav", dir / "x.wav").code == 0);
    CHECK(readAudio(dir / "x.wav").format == (SF_FORMAT_WAVEX | SF_FORMAT_PCM_24));
    REQUIRE(render(modelPath, dir / "inf.wav", dir / "f.ogg").code == 0);
    const Audio ogg = readAudio(dir / "f.ogg");
    CHECK(ogg.format == (SF_FORMAT_OGG | SF_FORMAT_VORBIS));
    CHECK(ogg.frames() == x.size());

    // The 16-bit output is the float render quantised (libsndfile's own conversion).
    REQUIRE(render(modelPath, dir / "inf.wav", dir / "g.wav", {"--bit-depth", "16"}).code == 0);
    REQUIRE(render(modelPath, dir / "inf.wav", dir / "h.wav").code == 0);
    const auto g = readAudio(dir / "g.wav").samples, h = readAudio(dir / "h.wav").samples;
    REQUIRE(g.size() == h.size());
    double maxDiff = 0.0;
    for (std::size_t i = 0; i < g.size(); ++i) maxDiff = std::max(maxDiff, std::abs(static_cast<double>(g[i]) - std::clamp(h[i], -1.0f, 1.0f)));
    CHECK(maxDiff < 2.0 / 32768.0);
}

TEST_CASE("integer outputs clip (never wrap) and the clipping is reported", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 27);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    writeAudio(dir / "in.wav", noiseSignal(8000, 3, 0.5f), 1, 48000, kFloatWav);
    const auto r = render(modelPath, dir / "in.wav", dir / "loud.wav", {"--bit-depth", "16", "--output-gain", "40"});
    REQUIRE(r.code == 0);
    CHECK_THAT(r.err, Contains("clipped") && Contains("write --bit-depth float"));
    const auto y = readAudio(dir / "loud.wav").samples;
    for (float v : y) REQUIRE(std::abs(v) <= 1.0f);
    // A container that cannot hold float samples gets advice it can follow (not --bit-depth float,
    // which FLAC and the lossy formats refuse)
    const auto flac = render(modelPath, dir / "in.wav", dir / "loud.flac", {"--output-gain", "40"});
    REQUIRE(flac.code == 0);
    CHECK_THAT(flac.err, Contains("clipped") && Contains("--format wav --bit-depth float"));
    CHECK_THAT(flac.err, !Contains("or write --bit-depth float"));
}

TEST_CASE("an empty audio file renders to an empty file", "[apps]") {
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 28), dir / "m.safetensors");
    writeAudio(dir / "empty.wav", {}, 2, 44100, kFloatWav);
    const auto r = render(modelPath, dir / "empty.wav", dir / "out.wav");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const Audio y = readAudio(dir / "out.wav");
    CHECK(y.frames() == 0);
    CHECK(y.channels == 2);
}

TEST_CASE("conditioning: the model's defaults, --cond NAME=VALUE, and range checks", "[apps]") {
    TempDir dir;
    Config config = smallConfig(48000.0);
    config.nCond = 2;
    Model model = makeModel(config, 29);
    model.metadata[meta::conditioning] =
        R"([{"name":"drive","min":0,"max":1,"default":0.3},{"name":"tone","min":-1,"max":1,"default":-0.5}])";
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const auto x = noiseSignal(30000, 6);
    writeAudio(dir / "in.wav", x, 1, 48000, kFloatWav);

    REQUIRE(render(modelPath, dir / "in.wav", dir / "default.wav").code == 0);
    CHECK(bitwiseEqual(readAudio(dir / "default.wav").samples, renderRealtime(model, x, 512, {0.3f, -0.5f})));
    const auto set = render(modelPath, dir / "in.wav", dir / "set.wav", {"--cond", "drive=0.8", "--cond", "1=0.25"});
    INFO(set.err);
    REQUIRE(set.code == 0);
    CHECK(bitwiseEqual(readAudio(dir / "set.wav").samples, renderRealtime(model, x, 512, {0.8f, 0.25f})));

    const auto outside = render(modelPath, dir / "in.wav", dir / "bad.wav", {"--cond", "drive=2"});
    CHECK(outside.code == 2);
    CHECK_THAT(outside.err, Contains("outside the model's range"));
    const auto unknown = render(modelPath, dir / "in.wav", dir / "bad.wav", {"--cond", "gain=0.1"});
    CHECK(unknown.code == 2);
    CHECK_THAT(unknown.err, Contains("drive, tone"));
    const auto notNumber = render(modelPath, dir / "in.wav", dir / "bad.wav", {"--cond", "drive=loud"});
    CHECK(notNumber.code == 2);
    CHECK_THAT(notNumber.err, Contains("not a number"));
    CHECK_FALSE(fs::exists(dir / "bad.wav"));
}

TEST_CASE("every file starts from the model's rest state (silence renders as its constant rest output), or with --initial-state zero from zero", "[apps]") {
    TempDir dir;
    Config config = smallConfig(48000.0);
    config.nCond = 1;
    Model model = makeModel(config, 31);
    model.metadata[meta::conditioning] = R"([{"name":"drive","min":0,"max":1,"default":0.6}])";
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    auto x = noiseSignal(20000, 8);
    std::fill(x.begin(), x.begin() + 4800, 0.0f); // 0.1 s of silence, then noise
    writeAudio(dir / "in.wav", x, 1, 48000, kFloatWav);

    const auto rest = render(modelPath, dir / "in.wav", dir / "rest.wav");
    INFO(rest.err);
    REQUIRE(rest.code == 0);
    const auto y = readAudio(dir / "rest.wav").samples;
    CHECK(bitwiseEqual(y, renderRealtime(model, x, 512, {0.6f})));
    float wiggle = 0.0f; // over the silent lead-in: float32 rounding of the rest point only
    for (std::size_t t = 0; t < 4800; ++t) wiggle = std::max(wiggle, std::abs(y[t] - y[0]));
    CHECK(wiggle <= 1e-5f * std::max(1.0f, std::abs(y[0])));

    // The chunked scan (not bitwise the engine) is settled at its own fixed point: as silent, and
    // within 1e-5 of the default path.
    const auto chunked = render(modelPath, dir / "in.wav", dir / "chunked.wav", {"--scan", "chunked"});
    INFO(chunked.err);
    REQUIRE(chunked.code == 0);
    const auto yc = readAudio(dir / "chunked.wav").samples;
    REQUIRE(yc.size() == x.size());
    float wiggleChunked = 0.0f;
    for (std::size_t t = 0; t < 4800; ++t) wiggleChunked = std::max(wiggleChunked, std::abs(yc[t] - yc[0]));
    CHECK(wiggleChunked <= 1e-5f * std::max(1.0f, std::abs(yc[0])));
    CHECK(relativeL2(yc, y) <= 1e-5);

    const auto zero = render(modelPath, dir / "in.wav", dir / "zero.wav", {"--initial-state", "zero"});
    INFO(zero.err);
    REQUIRE(zero.code == 0);
    const auto z = readAudio(dir / "zero.wav").samples;
    CHECK(bitwiseEqual(z, renderRealtime(model, x, 512, {0.6f}, false)));
    float settling = 0.0f;
    for (std::size_t t = 0; t < 4800; ++t) settling = std::max(settling, std::abs(z[t] - y[t]));
    INFO("from zero the model settles: up to " << settling << " from its rest output over the lead-in");
    CHECK(settling > 1e-3f); // this test model: 0.61

    const auto bad = render(modelPath, dir / "in.wav", dir / "bad.wav", {"--initial-state", "warm"});
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Contains("--initial-state warm is not known; use rest or zero"));
    CHECK_FALSE(fs::exists(dir / "bad.wav"));
}
