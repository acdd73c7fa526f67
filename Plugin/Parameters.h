#pragma once
// The plugin's parameters (IDs are stable: sessions and automation refer to them).
//
//   inGain   input gain, dB, -24..+24          before the model (the dry path is taken before it)
//   outGain  output gain, dB, -24..+24         after the dry/wet mix
//   mix      dry/wet, %, 0..100                100 = model only
//   bypass   smooth bypass (the host's bypass too)
//   linked   stereo: sum to mono, run the model once, same output on both channels
//   cond1..4 the model's conditioning inputs
//
// Parameters cannot be created per model, so four generic conditioning parameters are declared up
// front (normalised 0..1). Each loaded model renames and rescales them from its "conditioning"
// metadata (CondSlots); knobs a model does not use are hidden in the editor and keep the name
// "Control N" (the name LV2 hosts see: LV2 parameter names are fixed in the bundle's TTL).
// A model with more than four conditioning inputs holds the rest at their defaults.
#include "ModelInfo.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace mfx::plugin {

namespace paramId {
inline constexpr const char* inGain = "inGain";
inline constexpr const char* outGain = "outGain";
inline constexpr const char* mix = "mix";
inline constexpr const char* bypass = "bypass";
inline constexpr const char* linked = "linked";
juce::String cond(int index); // "cond1".."cond4" for index 0..3
} // namespace paramId

inline constexpr int kCondParams = 4;
inline constexpr int kMaxCond = 16; // conditioning inputs a model may have (EngineSlot keeps 16)

// The current model's conditioning specs, shared by the parameters (host threads), the editor and
// the audio thread. set() is for non-audio threads; valueFor() is real-time safe.
class CondSlots {
public:
    CondSlots();
    void set(const std::vector<CondSpec>& specs);
    int count() const noexcept { return count_.load(std::memory_order_acquire); }
    CondSpec spec(int index) const; // not for the audio thread
    float valueFor(int index, float normalised) const noexcept; // model units
    float defaultValue(int index) const noexcept;               // model units

private:
    mutable std::mutex mutex_;
    std::vector<CondSpec> specs_;
    std::atomic<int> count_{0};
    // (min, max) of each input packed in one 64-bit word, so the audio thread never pairs one model's
    // min with another's max while a new model's specs are being set.
    std::atomic<std::uint64_t> range_[kMaxCond];
    std::atomic<float> def_[kMaxCond];
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
};

// A conditioning parameter: normalised 0..1 to the host, named and displayed per model.
class CondParameter : public juce::AudioParameterFloat {
public:
    CondParameter(int index, const CondSlots& slots);
    juce::String getName(int maximumStringLength) const override;

private:
    int index_;
    const CondSlots& slots_;
};

juce::AudioProcessorValueTreeState::ParameterLayout createParameterLayout(const CondSlots& slots);

} // namespace mfx::plugin
