// Parameter layout and the per-model conditioning parameters (see Parameters.h).
#include "Parameters.h"

#include <cstring>

namespace mfx::plugin {

juce::String paramId::cond(int index) { return "cond" + juce::String(index + 1); }

namespace {
std::uint64_t packRange(float lo, float hi) {
    std::uint32_t a = 0, b = 0;
    std::memcpy(&a, &lo, 4);
    std::memcpy(&b, &hi, 4);
    return (static_cast<std::uint64_t>(b) << 32) | a;
}
void unpackRange(std::uint64_t v, float& lo, float& hi) {
    const auto a = static_cast<std::uint32_t>(v), b = static_cast<std::uint32_t>(v >> 32);
    std::memcpy(&lo, &a, 4);
    std::memcpy(&hi, &b, 4);
}
} // namespace

CondSlots::CondSlots() {
    for (int i = 0; i < kMaxCond; ++i) {
        range_[i] = packRange(0.0f, 1.0f);
        def_[i] = 0.0f;
    }
}

void CondSlots::set(const std::vector<CondSpec>& specs) {
    std::lock_guard<std::mutex> lock(mutex_);
    specs_ = specs;
    for (int i = 0; i < kMaxCond; ++i) {
        const CondSpec s = i < static_cast<int>(specs.size()) ? specs[static_cast<size_t>(i)] : CondSpec{};
        range_[i].store(packRange(s.min, s.max), std::memory_order_relaxed);
        def_[i].store(s.def, std::memory_order_relaxed);
    }
    count_.store(std::min(static_cast<int>(specs.size()), kMaxCond), std::memory_order_release);
}

CondSpec CondSlots::spec(int index) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index >= 0 && index < static_cast<int>(specs_.size())) return specs_[static_cast<size_t>(index)];
    return CondSpec{"Control " + std::to_string(index + 1), 0.0f, 1.0f, 0.0f}; // not used by this model
}

float CondSlots::valueFor(int index, float normalised) const noexcept {
    if (index < 0 || index >= kMaxCond) return 0.0f;
    float lo = 0.0f, hi = 1.0f;
    unpackRange(range_[index].load(std::memory_order_relaxed), lo, hi);
    return lo + normalised * (hi - lo);
}

float CondSlots::defaultValue(int index) const noexcept {
    return index >= 0 && index < kMaxCond ? def_[index].load(std::memory_order_relaxed) : 0.0f;
}

CondParameter::CondParameter(int index, const CondSlots& slots)
    : juce::AudioParameterFloat(
          juce::ParameterID{paramId::cond(index), 1}, "Control " + juce::String(index + 1),
          juce::NormalisableRange<float>(0.0f, 1.0f), 0.0f,
          juce::AudioParameterFloatAttributes()
              .withStringFromValueFunction([index, &slots](float normalised, int maxLength) {
                  return juce::String(slots.valueFor(index, normalised), 3).substring(0, maxLength > 0 ? maxLength : 64);
              })
              .withValueFromStringFunction([index, &slots](const juce::String& text) {
                  const CondSpec s{"", slots.valueFor(index, 0.0f), slots.valueFor(index, 1.0f), 0.0f};
                  return s.toNormalised(text.getFloatValue());
              })),
      index_(index), slots_(slots) {}

juce::String CondParameter::getName(int maximumStringLength) const {
    const juce::String name(slots_.spec(index_).name);
    return maximumStringLength > 0 ? name.substring(0, maximumStringLength) : name;
}

juce::AudioProcessorValueTreeState::ParameterLayout createParameterLayout(const CondSlots& slots) {
    using namespace juce;
    AudioProcessorValueTreeState::ParameterLayout layout;
    auto dB = [](const char* id, const char* name) {
        return std::make_unique<AudioParameterFloat>(
            ParameterID{id, 1}, name, NormalisableRange<float>(-24.0f, 24.0f, 0.1f), 0.0f,
            AudioParameterFloatAttributes().withLabel("dB").withStringFromValueFunction(
                [](float v, int) { return String(v, 1) + " dB"; }));
    };
    layout.add(dB(paramId::inGain, "Input gain"));
    layout.add(dB(paramId::outGain, "Output gain"));
    layout.add(std::make_unique<AudioParameterFloat>(
        ParameterID{paramId::mix, 1}, "Mix", NormalisableRange<float>(0.0f, 100.0f, 0.1f), 100.0f,
        AudioParameterFloatAttributes().withLabel("%").withStringFromValueFunction(
            [](float v, int) { return String(v, 1) + " %"; })));
    layout.add(std::make_unique<AudioParameterBool>(ParameterID{paramId::bypass, 1}, "Bypass", false));
    layout.add(std::make_unique<AudioParameterBool>(ParameterID{paramId::linked, 1}, "Stereo linked", false));
    for (int i = 0; i < kCondParams; ++i) layout.add(std::make_unique<CondParameter>(i, slots));
    return layout;
}

} // namespace mfx::plugin
