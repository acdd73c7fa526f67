// API, device, sample-rate and buffer-size choice: every error message, without an audio server.
#include <live/DeviceChoice.h>
#include <live/LiveOptions.h>

#include <catch2/catch.hpp>

using namespace mfx::live;

namespace {

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const LiveError& e) {
        return e.what();
    }
    return "";
}

DeviceDescription device(unsigned id, std::string name, unsigned in, unsigned out, std::vector<unsigned> rates,
                         bool defIn = false, bool defOut = false) {
    DeviceDescription d;
    d.id = id;
    d.name = std::move(name);
    d.inputChannels = in;
    d.outputChannels = out;
    d.sampleRates = std::move(rates);
    d.isDefaultInput = defIn;
    d.isDefaultOutput = defOut;
    return d;
}

std::vector<ApiDescription> machine() {
    ApiDescription jack{"jack", "Jack", {device(0, "system", 2, 2, {48000}, true, true), device(1, "mfxplayer", 1, 0, {48000})}, ""};
    ApiDescription pulse{"pulse", "Pulse", {}, ""};
    ApiDescription alsa{"alsa", "ALSA",
                        {device(0, "hw:HDA Intel PCH,0", 2, 2, {44100, 48000, 96000}, true, true),
                         device(1, "hw:Scarlett 2i2 USB,0", 2, 2, {44100, 48000, 88200, 96000, 176400, 192000}),
                         device(2, "hw:Scarlett 8i6 USB,0", 6, 4, {44100, 48000})},
                        ""};
    return {jack, pulse, alsa};
}

} // namespace

TEST_CASE("API chosen by name or default and every API error", "[live][devices]") {
    auto apis = machine();
    CHECK(chooseApi(apis, "alsa").name == "alsa");
    CHECK(chooseApi(apis, "ALSA").name == "alsa");
    CHECK(chooseApi(apis, "Jack").name == "jack");
    CHECK(chooseApi(apis, "").name == "jack"); // the first with devices, RtAudio's order

    CHECK_THAT(errorOf([&] { chooseApi(apis, "coreaudio"); }),
               Catch::Contains("unknown audio API 'coreaudio'") && Catch::Contains("compiled in: jack, pulse, alsa"));
    CHECK_THAT(errorOf([&] { chooseApi(apis, "pulse"); }), Catch::Contains("audio API 'pulse' has no devices"));

    apis[0].devices.clear();
    apis[0].problem = "no JACK server running";
    CHECK(chooseApi(apis, "").name == "alsa");
    CHECK_THAT(errorOf([&] { chooseApi(apis, "jack"); }),
               Catch::Contains("no JACK server running") && Catch::Contains("start a JACK server") &&
                   Catch::Contains("jackd -d dummy"));

    apis[2].devices.clear();
    CHECK_THAT(errorOf([&] { chooseApi(apis, ""); }),
               Catch::Contains("no audio API available") && Catch::Contains("jack: no JACK server running") &&
                   Catch::Contains("alsa: no devices"));
    CHECK_THAT(errorOf([&] { chooseApi({}, ""); }), Catch::Contains("no audio API available"));
}

TEST_CASE("device chosen by default or index or name or unique part of a name", "[live][devices]") {
    const auto apis = machine();
    const ApiDescription& alsa = apis[2];
    CHECK(resolveDevice(alsa, "", Direction::Input, 1).id == 0);
    CHECK(resolveDevice(alsa, "", Direction::Output, 2).id == 0);
    CHECK(resolveDevice(alsa, "2", Direction::Input, 6).id == 2);
    CHECK(resolveDevice(alsa, "hw:Scarlett 2i2 USB,0", Direction::Output, 2).id == 1);
    CHECK(resolveDevice(alsa, "2i2", Direction::Input, 1).id == 1);
    CHECK(resolveDevice(alsa, "scarlett 8I6", Direction::Output, 4).id == 2);
    CHECK(resolveDevice(apis[0], "mfxplayer", Direction::Input, 1).id == 1);
    // A device without channels in that direction: said so; a part of a name only matches devices that have some.
    CHECK_THAT(errorOf([&] { resolveDevice(apis[0], "mfxplayer", Direction::Output, 2); }),
               Catch::Contains("'mfxplayer' has 0 output channel(s), 2 requested"));
    CHECK_THAT(errorOf([&] { resolveDevice(apis[0], "player", Direction::Output, 2); }),
               Catch::Contains("no such output device 'player'"));
}

TEST_CASE("device errors for no such device and ambiguous names and too few channels", "[live][devices]") {
    const auto apis = machine();
    const ApiDescription& alsa = apis[2];
    CHECK_THAT(errorOf([&] { resolveDevice(alsa, "Focusrite", Direction::Input, 1); }),
               Catch::Contains("no such input device 'Focusrite' on alsa") && Catch::Contains("[1] 'hw:Scarlett 2i2 USB,0'") &&
                   Catch::Contains("mambafx live --list"));
    CHECK_THAT(errorOf([&] { resolveDevice(alsa, "7", Direction::Output, 2); }),
               Catch::Contains("no such output device: index 7 on alsa"));
    CHECK_THAT(errorOf([&] { resolveDevice(alsa, "scarlett", Direction::Input, 1); }),
               Catch::Contains("'scarlett' is ambiguous") && Catch::Contains("2i2") && Catch::Contains("8i6"));
    CHECK_THAT(errorOf([&] { resolveDevice(alsa, "2i2", Direction::Output, 4); }),
               Catch::Contains("has 2 output channel(s), 4 requested") && Catch::Contains("--output-channels 2"));
    CHECK_THAT(errorOf([&] { resolveDevice(alsa, "", Direction::Input, 8); }),
               Catch::Contains("has 2 input channel(s), 8 requested"));
    ApiDescription none{"alsa", "ALSA", {device(0, "hw:Loopback", 0, 2, {48000})}, ""};
    CHECK_THAT(errorOf([&] { resolveDevice(none, "", Direction::Input, 1); }),
               Catch::Contains("no input device with 1 channel(s) on alsa"));
}

TEST_CASE("sample rate: nearest supported rate in the error", "[live][devices]") {
    CHECK(nearestRate({44100, 48000, 96000}, 47000) == 48000);
    CHECK(nearestRate({44100, 48000, 96000}, 22050) == 44100);
    CHECK(nearestRate({44100, 48000, 96000}, 1e6) == 96000);
    CHECK(nearestRate({}, 48000) == 0);

    const auto apis = machine();
    CHECK_NOTHROW(checkSampleRate(apis[2], apis[2].devices[0], 96000, true));
    CHECK_THAT(errorOf([&] { checkSampleRate(apis[2], apis[2].devices[0], 88200, true); }),
               Catch::Contains("sample rate 88200 Hz is not supported by device 'hw:HDA Intel PCH,0'") &&
                   Catch::Contains("nearest supported: 96000 Hz") && Catch::Contains("--rate 96000"));
    CHECK_THAT(errorOf([&] { checkSampleRate(apis[0], apis[0].devices[0], 44100, true); }),
               Catch::Contains("sample rate 44100 Hz is not supported by device 'system' on jack") &&
                   Catch::Contains("nearest supported: 48000 Hz") && Catch::Contains("leave out --rate to run at 48000 Hz") &&
                   Catch::Contains("restart jackd with -r 44100"));
    DeviceDescription unknown = device(5, "odd", 1, 1, {});
    CHECK_NOTHROW(checkSampleRate(apis[2], unknown, 12345, true)); // no list: the open decides
}

TEST_CASE("buffer size given explicitly must be honoured and the error names the nearest supported", "[live][devices]") {
    CHECK(checkBufferSize("jack", 64, true, 64).empty());
    CHECK(checkBufferSize("alsa", 64, false, 64).empty());
    CHECK_THAT(checkBufferSize("jack", 64, false, 128), Catch::Contains("128 frames") && Catch::Contains("64 requested"));
    CHECK_THAT(errorOf([] { checkBufferSize("jack", 128, true, 64); }),
               Catch::Contains("buffer size 128 frames is not supported") && Catch::Contains("nearest supported: 64 frames") &&
                   Catch::Contains("--buffer 64") && Catch::Contains("jackd with -p 128"));
    CHECK_THAT(errorOf([] { checkBufferSize("alsa", 100, true, 96); }),
               Catch::Contains("nearest supported: 96 frames") && Catch::Contains("use --buffer 96"));
    CHECK_THAT(errorOf([] { checkBufferSize("alsa", 64, false, 16); }), Catch::Contains("below the minimum of 32"));
}

TEST_CASE("stream rate without --rate is the model rate when supported else a common rate", "[live][devices]") {
    const auto apis = machine();
    std::string note;
    // ALSA device that supports the model's rate: no resampling.
    CHECK(chooseStreamRate(apis[2], apis[2].devices[0], apis[2].devices[0], 96000, note) == 96000);
    CHECK(note.empty());
    // JACK at 48 kHz with a 44.1 kHz model: the server's rate, and the model resampled.
    CHECK(chooseStreamRate(apis[0], apis[0].devices[0], apis[0].devices[0], 44100, note) == 48000);
    CHECK_THAT(note, Catch::Contains("made for 44100 Hz") && Catch::Contains("JACK server does not run at") &&
                         Catch::Contains("stream runs at 48000 Hz") && Catch::Contains("resampled"));
    // Devices without the model's rate: the preferred rate when both have it, else the nearest common one.
    DeviceDescription a = device(0, "a", 2, 2, {44100, 48000, 96000}), b = device(1, "b", 2, 2, {48000, 88200, 96000});
    b.preferredRate = 96000;
    note.clear();
    CHECK(chooseStreamRate(apis[2], a, b, 22050, note) == 96000);
    CHECK_THAT(note, Catch::Contains("device does not support"));
    b.preferredRate = 0;
    CHECK(chooseStreamRate(apis[2], a, b, 22050, note) == 48000);
    CHECK(chooseStreamRate(apis[2], a, b, 192000, note) == 96000);
    // Unknown rate lists are taken to support the model's rate.
    CHECK(chooseStreamRate(apis[2], device(0, "x", 1, 1, {}), device(0, "x", 1, 1, {}), 44100, note) == 44100);
    // Nothing in common: a clear error.
    CHECK_THAT(errorOf([&] { chooseStreamRate(apis[2], device(0, "in", 1, 0, {44100}), device(1, "out", 0, 2, {48000}), 96000, note); }),
               Catch::Contains("'in'") && Catch::Contains("'out'") && Catch::Contains("no sample rate in common"));
}

TEST_CASE("switching to a model at another rate than the session runs models at is refused", "[live][devices]") {
    CHECK_NOTHROW(checkModelRate("amp", 48000, 48000));
    CHECK_THAT(errorOf([] { checkModelRate("amp", 44100, 48000); }),
               Catch::Contains("model 'amp' is made for 44100 Hz") && Catch::Contains("runs its models at 48000 Hz") &&
                   Catch::Contains("--model"));
}

TEST_CASE("list text shows APIs and devices with channels and rates and defaults", "[live][devices]") {
    auto apis = machine();
    apis[1].problem = "no server";
    const std::string text = formatDeviceList(apis);
    CHECK_THAT(text, Catch::Contains("Audio APIs compiled in: jack (Jack) pulse (Pulse) alsa (ALSA)"));
    CHECK_THAT(text, Catch::Contains("[0] system") && Catch::Contains("in 2 ch, out 2 ch, rates 48000 Hz") &&
                         Catch::Contains("default input and output"));
    CHECK_THAT(text, Catch::Contains("pulse: no devices (no server)"));
    CHECK_THAT(text, Catch::Contains("[2] hw:Scarlett 8i6 USB,0") && Catch::Contains("in 6 ch, out 4 ch, rates 44100, 48000 Hz"));
    CHECK_THAT(formatDeviceList({}), Catch::Contains("no audio APIs"));
}
