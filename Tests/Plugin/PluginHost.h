#pragma once
// A minimal DAW for the plugin tests and the benchmark: loads the built MambaFX VST3 or LV2 through
// JUCE's own plugin hosting (AudioPluginFormatManager with VST3PluginFormat / LV2PluginFormat), as a
// host would, and drives it with plain float buffers. No JUCE types here, so the test files compile
// without JUCE (JUCE is compiled once, into mfx_plugin_host).
//
// Call everything except process() from the thread that made the first HostedPlugin (it becomes
// JUCE's message thread); process() runs on any one thread at a time (the "audio thread").
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mfx::test {

enum class PluginFormat { VST3, LV2 };
const char* toString(PluginFormat format);

class HostedPlugin {
public:
    // Loads the plugin built by this tree (paths compiled in). Throws std::runtime_error on failure.
    explicit HostedPlugin(PluginFormat format);
    ~HostedPlugin();
    HostedPlugin(const HostedPlugin&) = delete;
    HostedPlugin& operator=(const HostedPlugin&) = delete;

    std::string name() const;
    std::string version() const;
    bool supportsChannels(int channels) const; // mono or stereo in and out

    // releaseResources + bus layout (channels in = out) + prepareToPlay, then 200 ms of the message loop
    // (deferred latency report). Throws if the layout is refused.
    void prepare(double sampleRate, int maxBlock, int channels);
    int latency() const; // as the host sees it after prepare()
    void reset();

    // Audio thread: processes n samples in place, channels() buffers.
    void process(float* const* channels, int n) noexcept;
    int channels() const noexcept { return channels_; }

    // The host's view of the state (what a DAW saves): for VST3 JUCE's VST3PluginState XML around the
    // component's stream, for LV2 a Turtle state around the plugin's base64 string.
    std::vector<std::uint8_t> getState() const;
    void setState(const std::vector<std::uint8_t>& state);
    // MambaFX's own state (XML, see Plugin/README.md) inside a host state, as text.
    std::string stateXml() const;
    // A host state with the plugin's MODEL element replaced by `modelBytes` (and a remembered path),
    // or removed.
    std::vector<std::uint8_t> stateWithModel(const std::vector<std::uint8_t>& state,
                                             const std::vector<std::uint8_t>& modelBytes, const std::string& path) const;
    std::vector<std::uint8_t> stateWithoutModel(const std::vector<std::uint8_t>& state) const;
    // setState(stateWithModel(getState(), ...)).
    void setModel(const std::vector<std::uint8_t>& modelBytes, const std::string& path = "");

    // Parameters by MambaFX's parameter ID ("inGain", "mix", "cond1", ...; Plugin/Parameters.h), found
    // the way each format exposes it (VST3: JUCE's hash of the ID; LV2: the URI ending in ":<ID>").
    int numParameters() const;
    int parameterIndex(const std::string& id) const; // throws if there is none
    std::string parameterName(const std::string& id) const;
    void setParameter(const std::string& id, float normalised);
    float parameter(const std::string& id) const;
    // Sets parameters before prepare() so they hold from the first sample. VST3: through the host's
    // parameter API. LV2: through the state, because JUCE's LV2 hosting re-instantiates the plugin in
    // prepareToPlay from its saved state, dropping parameter changes the plugin has not run with yet.
    void setParameters(const std::map<std::string, float>& normalised);
    // The host's bypass control (VST3: MambaFX's bypass parameter; LV2: the lv2:enabled port).
    void setHostBypass(bool bypassed);

    // Runs the host's message loop for a while (deferred host notifications, e.g. latency changes).
    static void pumpMessages(int milliseconds);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    PluginFormat format_;
    int channels_ = 2;
};

} // namespace mfx::test
