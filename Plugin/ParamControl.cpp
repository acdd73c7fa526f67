// Editor controls that poll their parameter (see ParamControl.h).
#include "ParamControl.h"

namespace mfx::plugin {

SliderControl::SliderControl(juce::Slider& slider, juce::RangedAudioParameter& param) : slider_(slider), param_(param) {
    // The slider works in the parameter's own units, with its range, skew and text (as SliderAttachment does).
    const auto range = param_.getNormalisableRange();
    slider_.setNormalisableRange({static_cast<double>(range.start), static_cast<double>(range.end),
                                  [this](double, double, double v) { return static_cast<double>(param_.convertFrom0to1(static_cast<float>(v))); },
                                  [this](double, double, double v) { return static_cast<double>(param_.convertTo0to1(static_cast<float>(v))); },
                                  [this](double, double, double v) {
                                      return static_cast<double>(param_.convertFrom0to1(param_.convertTo0to1(static_cast<float>(v))));
                                  }});
    slider_.textFromValueFunction = [this](double v) { return param_.getText(param_.convertTo0to1(static_cast<float>(v)), 0); };
    slider_.valueFromTextFunction = [this](const juce::String& text) {
        return static_cast<double>(param_.convertFrom0to1(param_.getValueForText(text)));
    };
    slider_.setDoubleClickReturnValue(true, param_.convertFrom0to1(param_.getDefaultValue()));
    slider_.onDragStart = [this] {
        dragging_ = true;
        param_.beginChangeGesture();
    };
    slider_.onDragEnd = [this] {
        dragging_ = false;
        param_.endChangeGesture();
    };
    slider_.onValueChange = [this] {
        if (showing_) return;
        const float v = param_.convertTo0to1(static_cast<float>(slider_.getValue()));
        if (dragging_) {
            param_.setValueNotifyingHost(v);
        } else { // typed value, double click, wheel, keys: one gesture each
            param_.beginChangeGesture();
            param_.setValueNotifyingHost(v);
            param_.endChangeGesture();
        }
    };
    poll();
}

void SliderControl::poll() {
    if (dragging_) return;
    const double v = param_.convertFrom0to1(param_.getValue());
    if (v != slider_.getValue()) {
        showing_ = true;
        slider_.setValue(v, juce::sendNotificationSync);
        showing_ = false;
    }
    const juce::String text = slider_.getTextFromValue(slider_.getValue());
    if (text != lastText_) { // the text can change without the value (a conditioning input's range)
        lastText_ = text;
        slider_.updateText();
    }
}

ToggleControl::ToggleControl(juce::Button& button, juce::RangedAudioParameter& param) : button_(button), param_(param) {
    button_.setClickingTogglesState(true);
    button_.onClick = [this] {
        param_.beginChangeGesture();
        param_.setValueNotifyingHost(button_.getToggleState() ? 1.0f : 0.0f);
        param_.endChangeGesture();
    };
    poll();
}

void ToggleControl::poll() {
    const bool on = param_.getValue() >= 0.5f;
    if (on != button_.getToggleState()) button_.setToggleState(on, juce::dontSendNotification);
}

} // namespace mfx::plugin
