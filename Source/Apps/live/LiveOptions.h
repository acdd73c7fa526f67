#pragma once
// The options of `mambafx live` and their validation. No audio API here, so tests drive it directly.
#include <stdexcept>
#include <string>

namespace CLI {
class App;
}

namespace mfx::live {

// Every user-facing problem of the live app: the message names the problem and what to do next.
struct LiveError : std::runtime_error {
    explicit LiveError(const std::string& what) : std::runtime_error(what) {}
};

inline constexpr int kMinBufferFrames = 32;
inline constexpr int kMaxBufferFrames = 8192;
inline constexpr int kDefaultBufferFrames = 64;
inline constexpr int kMaxChannels = 32;
inline constexpr double kMinSampleRate = 8000.0;
inline constexpr double kMaxSampleRate = 384000.0;
inline constexpr double kMinGainDb = -96.0;
inline constexpr double kMaxGainDb = 48.0;

struct LiveOptions {
    bool list = false;                // print APIs and devices, then exit
    std::string api;                  // "" = the first compiled API that has devices (RtAudio's order)
    std::string device;               // both directions, unless --input-device/--output-device say otherwise
    std::string inputDevice;          // "" = the API's default; a number = device index; else a name
    std::string outputDevice;         //   (exact, or a unique case-insensitive part of one)
    int inputChannels = 1;            // 1 (mono, e.g. a guitar) or equal to outputChannels
    int outputChannels = 2;
    double sampleRate = 0.0;          // not given: the model's rate if the devices run at it (chooseStreamRate)
    int bufferFrames = kDefaultBufferFrames;
    bool bufferFramesGiven = false;   // given explicitly: the device must honour it exactly
    double inputGainDb = 0.0;
    double outputGainDb = 0.0;
    double mix = 1.0;                 // 0 = dry input only, 1 = model output only
    double durationSeconds = 0.0;     // 0 = until 'q' or Ctrl-C
    std::string recordPath;           // "" = no recording
    std::string recordInputPath;      // "" = none; else the raw input (e.g. to re-amp later with `mambafx render`)
    std::string modelPath;            // "" = the bundled default model
    std::string clientName = "mambafx"; // JACK client name
    std::string resampleQuality = "fast"; // when the model's rate differs from the stream's: fast|medium|best
    bool sampleRateGiven = false;
    bool durationGiven = false;
    bool overwrite = false;           // --record / --record-input may replace existing files

    const std::string& inputDeviceSpec() const { return inputDevice.empty() ? device : inputDevice; }
    const std::string& outputDeviceSpec() const { return outputDevice.empty() ? device : outputDevice; }
};

// Registers the options on the `live` subcommand; values land in `options` when the app parses.
void addLiveOptions(CLI::App& command, LiveOptions& options);

// Throws LiveError naming the first bad option, its allowed range and how to fix it.
void validateLiveOptions(const LiveOptions& options);

float dbToGain(double db) noexcept;

// Engine channel that feeds output channel `outChannel`: a mono input feeds every output.
inline int engineChannelFor(int outChannel, int inputChannels) noexcept { return inputChannels == 1 ? 0 : outChannel; }

} // namespace mfx::live
