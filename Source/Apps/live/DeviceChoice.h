#pragma once
// Choosing the audio API, the devices, the sample rate and the buffer size from what RtAudio
// reports. Pure functions over plain descriptions, so every error message is unit-tested without
// an audio server; AudioSystem.cpp fills the descriptions from RtAudio.
#include <string>
#include <vector>

namespace mfx::live {

struct DeviceDescription {
    unsigned id = 0;                 // RtAudio device index
    std::string name;
    unsigned inputChannels = 0;
    unsigned outputChannels = 0;
    std::vector<unsigned> sampleRates; // supported rates (JACK: the server's rate only)
    unsigned preferredRate = 0;
    bool isDefaultInput = false;
    bool isDefaultOutput = false;
};

struct ApiDescription {
    std::string name;        // RtAudio's short name: "jack", "alsa", "pulse"
    std::string displayName; // "Jack", "ALSA", "Pulse"
    std::vector<DeviceDescription> devices;
    std::string problem;     // why it has no devices, if known (e.g. "no JACK server running")
};

enum class Direction { Input, Output };

// The API to use. `requested` empty: the first API with devices, in the given (RtAudio's) order.
// Throws LiveError: unknown or not compiled-in API (lists those compiled in); the requested API has
// no devices (with the reason and what to do); no API with devices at all ("no audio API available").
const ApiDescription& chooseApi(const std::vector<ApiDescription>& apis, const std::string& requested);

// The device for one direction: `spec` empty = the API's default for that direction (or the first
// device that has such channels); a number = device index; otherwise the exact name, or a unique
// case-insensitive part of one. Throws LiveError: no such device (lists the devices that fit),
// ambiguous name, or too few channels.
const DeviceDescription& resolveDevice(const ApiDescription& api, const std::string& spec, Direction direction,
                                       int channels);

// The supported rate closest to `rate` (0 if the list is empty).
unsigned nearestRate(const std::vector<unsigned>& rates, double rate);

// Throws LiveError when the device does not list `rate`, naming the nearest supported rate.
void checkSampleRate(const ApiDescription& api, const DeviceDescription& device, double rate, bool rateGiven);

// After opening: `actual` is the buffer size the device chose. If the user gave the size explicitly
// and the device chose another, throws LiveError naming the supported size; otherwise returns a note
// ("" when actual == requested).
std::string checkBufferSize(const std::string& apiName, int requested, bool requestedGiven, unsigned actual);

// The stream rate when --rate is not given: the model's rate when both devices support it (or do not
// list rates); otherwise a rate both support, the output device's preferred one first, else the one
// nearest the model's (the model then runs through a RateAdapter). `note` says why, when it is not the
// model's rate. Throws LiveError when the devices have no rate in common.
double chooseStreamRate(const ApiDescription& api, const DeviceDescription& input, const DeviceDescription& output,
                        double modelRate, std::string& note);

// Switching models while playing: the new model must be made for the rate the session runs its models
// at (the resamplers, if any, are fixed for the session). Throws LiveError saying how to use it.
void checkModelRate(const std::string& modelName, double modelRate, double sessionModelRate);

// The text of `mambafx live --list`.
std::string formatDeviceList(const std::vector<ApiDescription>& apis);

} // namespace mfx::live
