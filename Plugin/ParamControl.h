#pragma once
// Editor controls bound to plugin parameters without parameter listeners.
//
// JUCE's APVTS attachments listen to their parameter: when a host automates it, the VST3 and LV2
// wrappers notify listeners on the audio thread, and every attachment then calls
// triggerAsyncUpdate() there (a lock, a possible allocation and a write() to the message queue's
// socket). These controls instead poll the parameter's value from the editor's timer (a lock-free
// read) and write user gestures from the message thread, so automation costs the audio thread
// nothing for the editor.
#include <juce_audio_processors/juce_audio_processors.h>

namespace mfx::plugin {

class SliderControl {
public:
    // `param` outlives the control (plugin parameters live as long as the processor).
    SliderControl(juce::Slider& slider, juce::RangedAudioParameter& param);
    void poll(); // message thread: show the parameter's current value unless the user is dragging

private:
    juce::Slider& slider_;
    juce::RangedAudioParameter& param_;
    bool dragging_ = false;
    bool showing_ = false; // setting the slider from the parameter: not a user gesture
    juce::String lastText_; // the text last shown (it can change without the value: a new model's range)
};

class ToggleControl {
public:
    ToggleControl(juce::Button& button, juce::RangedAudioParameter& param);
    void poll();

private:
    juce::Button& button_;
    juce::RangedAudioParameter& param_;
};

} // namespace mfx::plugin
