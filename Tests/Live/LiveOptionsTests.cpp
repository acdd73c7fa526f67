// Option parsing (through CLI11, as mambafx parses them) and every validation error.
#include <live/LiveOptions.h>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace mfx::live;

namespace {

LiveOptions parse(std::vector<std::string> args) {
    CLI::App app("test", "mambafx-live-test");
    LiveOptions o;
    addLiveOptions(app, o);
    std::vector<const char*> argv{"live"};
    for (auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    return o;
}

std::string errorOf(std::vector<std::string> args) {
    try {
        validateLiveOptions(parse(std::move(args)));
    } catch (const LiveError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("defaults are mono in and stereo out at 64 frames and the model rate fully wet", "[live][options]") {
    const LiveOptions o = parse({});
    CHECK_FALSE(o.list);
    CHECK(o.api.empty());
    CHECK(o.inputChannels == 1);
    CHECK(o.outputChannels == 2);
    CHECK(o.bufferFrames == 64);
    CHECK_FALSE(o.bufferFramesGiven);
    CHECK_FALSE(o.sampleRateGiven);
    CHECK(o.mix == 1.0);
    CHECK(o.inputGainDb == 0.0);
    CHECK(o.outputGainDb == 0.0);
    CHECK_FALSE(o.durationGiven);
    CHECK(o.recordPath.empty());
    CHECK(o.modelPath.empty());
    CHECK(o.clientName == "mambafx");
    CHECK(o.resampleQuality == "fast");
    CHECK_NOTHROW(validateLiveOptions(o));
}

TEST_CASE("every option lands in its field", "[live][options]") {
    const LiveOptions o = parse({"--api", "jack", "--input-device", "system", "--output-device", "2", "--input-channels",
                                 "2", "--output-channels", "2", "--rate", "44100", "--buffer", "128", "--input-gain",
                                 "-6", "--output-gain", "3.5", "--mix", "0.25", "--duration", "20", "--record", "out.wav",
                                 "--model", "m.safetensors", "--client-name", "fx", "--record-input", "dry.flac"});
    CHECK(o.api == "jack");
    CHECK(o.inputDevice == "system");
    CHECK(o.outputDevice == "2");
    CHECK(o.inputChannels == 2);
    CHECK(o.outputChannels == 2);
    CHECK(o.sampleRate == 44100.0);
    CHECK(o.sampleRateGiven);
    CHECK(o.bufferFrames == 128);
    CHECK(o.bufferFramesGiven);
    CHECK(o.inputGainDb == -6.0);
    CHECK(o.outputGainDb == 3.5);
    CHECK(o.mix == 0.25);
    CHECK(o.durationSeconds == 20.0);
    CHECK(o.durationGiven);
    CHECK(o.recordPath == "out.wav");
    CHECK(o.modelPath == "m.safetensors");
    CHECK(o.clientName == "fx");
    CHECK(o.recordInputPath == "dry.flac");
    CHECK_NOTHROW(validateLiveOptions(o));

    const LiveOptions both = parse({"--device", "hw:1", "--list", "-m", "x.safetensors"});
    CHECK(both.inputDeviceSpec() == "hw:1");
    CHECK(both.outputDeviceSpec() == "hw:1");
    const LiveOptions mixed = parse({"--device", "hw:1", "--output-device", "hw:2"});
    CHECK(mixed.inputDeviceSpec() == "hw:1");
    CHECK(mixed.outputDeviceSpec() == "hw:2");
    CHECK(both.list);
    CHECK(both.modelPath == "x.safetensors");
}

TEST_CASE("CLI11 rejects non-numbers and unknown options", "[live][options]") {
    CHECK_THROWS_AS(parse({"--buffer", "lots"}), CLI::ParseError);
    CHECK_THROWS_AS(parse({"--rate", "fast"}), CLI::ParseError);
    CHECK_THROWS_AS(parse({"--frobnicate"}), CLI::ParseError);
}

TEST_CASE("buffer size: 32 to 8192 frames", "[live][options]") {
    CHECK(errorOf({"--buffer", "32"}).empty());
    CHECK(errorOf({"--buffer", "8192"}).empty());
    CHECK_THAT(errorOf({"--buffer", "31"}), Catch::Contains("--buffer 31 is out of range") && Catch::Contains("32 to 8192"));
    CHECK_THAT(errorOf({"--buffer", "0"}), Catch::Contains("--buffer 0 is out of range"));
    CHECK_THAT(errorOf({"--buffer", "16384"}), Catch::Contains("out of range"));
}

TEST_CASE("channels 1 to 32 with the input mono or equal to the output", "[live][options]") {
    CHECK(errorOf({"--input-channels", "2", "--output-channels", "2"}).empty());
    CHECK(errorOf({"--input-channels", "1", "--output-channels", "1"}).empty());
    CHECK(errorOf({"--input-channels", "1", "--output-channels", "6"}).empty());
    CHECK_THAT(errorOf({"--input-channels", "0"}), Catch::Contains("--input-channels 0 is out of range"));
    CHECK_THAT(errorOf({"--output-channels", "33"}), Catch::Contains("--output-channels 33 is out of range"));
    CHECK_THAT(errorOf({"--input-channels", "2", "--output-channels", "4"}),
               Catch::Contains("must be mono") && Catch::Contains("as many channels as the output"));
}

TEST_CASE("sample rate in whole Hz from 8 kHz to 384 kHz when given", "[live][options]") {
    CHECK(errorOf({"--rate", "96000"}).empty());
    CHECK_THAT(errorOf({"--rate", "0"}), Catch::Contains("--rate 0 is out of range") && Catch::Contains("model's rate"));
    CHECK_THAT(errorOf({"--rate", "1e9"}), Catch::Contains("out of range"));
    CHECK_THAT(errorOf({"--rate", "44100.5"}), Catch::Contains("not a whole number"));
}

TEST_CASE("gains and mix and duration and record file types and client name", "[live][options]") {
    CHECK_THAT(errorOf({"--input-gain", "60"}), Catch::Contains("--input-gain 60 dB is out of range"));
    CHECK_THAT(errorOf({"--output-gain", "-200"}), Catch::Contains("--output-gain -200 dB is out of range"));
    CHECK_THAT(errorOf({"--mix", "1.5"}), Catch::Contains("--mix 1.5 is out of range"));
    CHECK_THAT(errorOf({"--mix", "-0.1"}), Catch::Contains("--mix"));
    CHECK_THAT(errorOf({"--duration", "0"}), Catch::Contains("--duration 0 is out of range"));
    CHECK_THAT(errorOf({"--duration", "-3"}), Catch::Contains("positive number of seconds"));
    CHECK_THAT(errorOf({"--record", "take.mp3"}), Catch::Contains("unknown file type '.mp3'") && Catch::Contains(".wav"));
    CHECK_THAT(errorOf({"--record", "take"}), Catch::Contains("unknown file type"));
    CHECK(errorOf({"--record", "take.WAV"}).empty());
    CHECK(errorOf({"--record", "take.flac"}).empty());
    CHECK_THAT(errorOf({"--client-name", ""}), Catch::Contains("--client-name"));
    CHECK_THAT(errorOf({"--record-input", "dry.mp3"}), Catch::Contains("unknown file type '.mp3'"));
    CHECK_THAT(errorOf({"--record", "a.wav", "--record-input", "a.wav"}), Catch::Contains("name the same file"));
    CHECK(errorOf({"--resample-quality", "best"}).empty());
    CHECK_THAT(errorOf({"--resample-quality", "ultra"}), Catch::Contains("--resample-quality 'ultra' is unknown") &&
                                                          Catch::Contains("fast, medium or best"));
}

TEST_CASE("recordings never replace an existing file unless --overwrite is given", "[live][options]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "mfx-live-options-test";
    fs::create_directories(dir);
    const std::string take = (dir / "take.wav").string();
    { std::ofstream(take) << "an earlier take"; }
    CHECK_THAT(errorOf({"--record", take}), Catch::Contains("exists") && Catch::Contains("--overwrite"));
    CHECK_THAT(errorOf({"--record-input", take}), Catch::Contains("exists") && Catch::Contains("--overwrite"));
    CHECK(errorOf({"--record", take, "--overwrite"}).empty());
    // the same file under two spellings
    const std::string other = (dir / "dry.wav").string(), spelled = (dir / "." / "dry.wav").string();
    CHECK_THAT(errorOf({"--record", other, "--record-input", spelled}), Catch::Contains("name the same file"));
    fs::remove_all(dir);
}

TEST_CASE("dB to gain and channel routing", "[live][options]") {
    CHECK(dbToGain(0.0) == 1.0f);
    CHECK(dbToGain(-6.0) == Approx(0.501187f));
    CHECK(dbToGain(20.0) == Approx(10.0f));
    CHECK(engineChannelFor(0, 1) == 0);
    CHECK(engineChannelFor(1, 1) == 0);
    CHECK(engineChannelFor(1, 2) == 1);
}
