#pragma once
// The editor: model name and info, load / previous / next / recent / default, drag and drop of a
// model file, the knobs (gains, mix, one per conditioning input of the model), bypass and stereo
// link, in/out level meters, CPU load, latency and the loader's last error. Resizable.
#include "LevelMeter.h"
#include "ParamControl.h"
#include "PluginProcessor.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <memory>

namespace mfx::plugin {

class MambaEditor : public juce::AudioProcessorEditor,
                    public juce::FileDragAndDropTarget,
                    private juce::ChangeListener,
                    private juce::Timer {
public:
    explicit MambaEditor(MambaProcessor& processor);
    ~MambaEditor() override;

    void paint(juce::Graphics& g) override;
    void paintOverChildren(juce::Graphics& g) override;
    void resized() override;

    bool isInterestedInFileDrag(const juce::StringArray& files) override;
    void fileDragEnter(const juce::StringArray&, int, int) override;
    void fileDragExit(const juce::StringArray&) override;
    void filesDropped(const juce::StringArray& files, int x, int y) override;

private:
    struct Knob {
        juce::Slider slider{juce::Slider::RotaryHorizontalVerticalDrag, juce::Slider::TextBoxBelow};
        juce::Label label;
        std::unique_ptr<SliderControl> control; // polled, no listener on the parameter (ParamControl.h)
    };

    void changeListenerCallback(juce::ChangeBroadcaster*) override;
    void timerCallback() override;
    void refreshModel();
    void setUpKnob(Knob& knob, const juce::String& paramId, const juce::String& name);
    void chooseFile();
    void showRecent();

    MambaProcessor& processor_;
    juce::Label title_, modelName_, status_, error_;
    juce::TextButton load_{"Load..."}, previous_{"<"}, next_{">"}, recent_{"Recent"}, default_{"Default"};
    juce::TextEditor info_;
    Knob inGain_, outGain_, mix_, cond_[kCondParams];
    juce::ToggleButton bypass_{"Bypass"}, linked_{"Stereo linked"};
    std::unique_ptr<ToggleControl> bypassControl_, linkedControl_;
    LevelMeter meter_;
    std::unique_ptr<juce::FileChooser> chooser_;
    bool dragOver_ = false;
    double lastTimer_ = 0.0;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(MambaEditor)
};

} // namespace mfx::plugin
