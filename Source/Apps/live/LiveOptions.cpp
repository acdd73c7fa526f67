#include "LiveOptions.h"

#include "Recorder.h"

#include <Dsp/Resampler.h>

#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>

namespace mfx::live {

void addLiveOptions(CLI::App& cmd, LiveOptions& o) {
    cmd.add_flag("--list", o.list, "List the audio APIs compiled in and their devices (channels, sample rates), then exit");
    cmd.add_option("--api", o.api, "Audio API: jack, alsa, pulse (default: the first one with devices)");
    cmd.add_option("--device", o.device, "Input and output device (name or index from --list)");
    cmd.add_option("--input-device", o.inputDevice, "Input device (name or index; default: the API's default)");
    cmd.add_option("--output-device", o.outputDevice, "Output device (name or index; default: the API's default)");
    cmd.add_option("--input-channels", o.inputChannels, "Input channels: 1 (mono, default) or the output channel count");
    cmd.add_option("--output-channels", o.outputChannels, "Output channels (default 2: mono input to stereo)");
    cmd.add_option("--rate", o.sampleRate, "Sample rate in Hz (default: the model's if the device runs at it, else the device's; the model is resampled when the rates differ)")
        ->each([&o](const std::string&) { o.sampleRateGiven = true; });
    cmd.add_option("--buffer", o.bufferFrames, "Buffer size in frames, " + std::to_string(kMinBufferFrames) + " to " + std::to_string(kMaxBufferFrames) + " (default 64)")
        ->each([&o](const std::string&) { o.bufferFramesGiven = true; });
    cmd.add_option("--input-gain", o.inputGainDb, "Gain before the model, dB (default 0)");
    cmd.add_option("--output-gain", o.outputGainDb, "Gain after the mix, dB (default 0)");
    cmd.add_option("--mix", o.mix, "Dry/wet mix: 0 = input only, 1 = model only (default 1)");
    cmd.add_option("--duration", o.durationSeconds, "Stop after this many seconds (default: run until q or Ctrl-C)")
        ->each([&o](const std::string&) { o.durationGiven = true; });
    cmd.add_option("--record", o.recordPath, "Write the processed output to this file (.wav, .flac, .aiff, .caf, .w64)");
    cmd.add_option("--record-input", o.recordInputPath,
                   "Also write the raw input to this file (the dry signal, to re-amp later with mambafx render)");
    cmd.add_flag("--overwrite", o.overwrite, "Let --record / --record-input replace existing files");
    cmd.add_option("-m,--model", o.modelPath, "Model file (.safetensors; default: the bundled default model)");
    cmd.add_option("--client-name", o.clientName, "JACK client name (default mambafx)");
    cmd.add_option("--resample-quality", o.resampleQuality,
                   "When the model's rate is not the stream's: libsamplerate sinc converter fast (default, about 1 ms"
                   " added latency at 44.1/48 kHz), medium (2 ms) or best (6 ms, much more CPU)");
}

namespace {

template <typename T>
std::string str(T v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

} // namespace

void validateLiveOptions(const LiveOptions& o) {
    if (o.inputChannels < 1 || o.inputChannels > kMaxChannels)
        throw LiveError("--input-channels " + str(o.inputChannels) + " is out of range: use 1 to " + str(kMaxChannels));
    if (o.outputChannels < 1 || o.outputChannels > kMaxChannels)
        throw LiveError("--output-channels " + str(o.outputChannels) + " is out of range: use 1 to " + str(kMaxChannels));
    if (o.inputChannels != 1 && o.inputChannels != o.outputChannels)
        throw LiveError("--input-channels " + str(o.inputChannels) + " with --output-channels " + str(o.outputChannels) +
                        ": the input must be mono (1, copied to every output) or have as many channels as the output");
    if (o.sampleRateGiven && !(o.sampleRate >= kMinSampleRate && o.sampleRate <= kMaxSampleRate))
        throw LiveError("--rate " + str(o.sampleRate) + " is out of range: use " + str(kMinSampleRate) + " to " +
                        str(kMaxSampleRate) + " Hz, or leave it out to run at the model's rate");
    if (o.sampleRateGiven && o.sampleRate != std::floor(o.sampleRate))
        throw LiveError("--rate " + str(o.sampleRate) + " is not a whole number of Hz");
    if (o.bufferFrames < kMinBufferFrames || o.bufferFrames > kMaxBufferFrames)
        throw LiveError("--buffer " + str(o.bufferFrames) + " is out of range: use " + str(kMinBufferFrames) + " to " +
                        str(kMaxBufferFrames) + " frames (64 is a good start)");
    auto checkGain = [](const char* name, double db) {
        if (!(db >= kMinGainDb && db <= kMaxGainDb))
            throw LiveError(std::string(name) + " " + str(db) + " dB is out of range: use " + str(kMinGainDb) + " to " +
                            str(kMaxGainDb) + " dB");
    };
    checkGain("--input-gain", o.inputGainDb);
    checkGain("--output-gain", o.outputGainDb);
    if (!(o.mix >= 0.0 && o.mix <= 1.0))
        throw LiveError("--mix " + str(o.mix) + " is out of range: use 0 (input only) to 1 (model only)");
    if (o.durationGiven && !(o.durationSeconds > 0.0 && o.durationSeconds <= 7.0 * 24 * 3600))
        throw LiveError("--duration " + str(o.durationSeconds) +
                        " is out of range: give a positive number of seconds, or leave it out to run until q / Ctrl-C");
    if (!o.recordPath.empty()) recordFormatFor(o.recordPath); // throws for an unknown extension
    if (!o.recordInputPath.empty()) recordFormatFor(o.recordInputPath);
    if (!o.recordPath.empty() && !o.recordInputPath.empty()) {
        std::error_code ec1, ec2;
        const auto a = std::filesystem::weakly_canonical(o.recordPath, ec1);
        const auto b = std::filesystem::weakly_canonical(o.recordInputPath, ec2);
        if (o.recordPath == o.recordInputPath || (!ec1 && !ec2 && a == b))
            throw LiveError("--record and --record-input name the same file '" + o.recordPath + "'; give two names");
    }
    for (const auto* p : {&o.recordPath, &o.recordInputPath}) {
        std::error_code ec;
        if (!p->empty() && !o.overwrite && std::filesystem::exists(*p, ec))
            throw LiveError("'" + *p + "' exists: pass --overwrite to replace it, or record to another name");
    }
    if (!parseResamplerQuality(o.resampleQuality))
        throw LiveError("--resample-quality '" + o.resampleQuality + "' is unknown; use fast, medium or best");
    if (o.clientName.empty() || o.clientName.size() > 48)
        throw LiveError("--client-name must have 1 to 48 characters");
}

float dbToGain(double db) noexcept {
    return db == 0.0 ? 1.0f : static_cast<float>(std::pow(10.0, db / 20.0));
}

} // namespace mfx::live
