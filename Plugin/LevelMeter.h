#pragma once
// Input/output level meter: four bars (in L/R, out L/R) in dBFS with peak hold and fall-off.
// Message thread only; the editor feeds it the processor's peaks on a timer.
#include <juce_audio_basics/juce_audio_basics.h>
#include <juce_gui_basics/juce_gui_basics.h>

namespace mfx::plugin {

class LevelMeter : public juce::Component {
public:
    static constexpr float kFloorDb = -60.0f;

    // Linear peaks since the last call; `channels` bars per side are shown (1 or 2).
    void push(const float (&in)[2], const float (&out)[2], int channels, float secondsSinceLast);
    void paint(juce::Graphics& g) override;

private:
    void paintBar(juce::Graphics& g, juce::Rectangle<float> area, float db);
    float db_[4] = {kFloorDb, kFloorDb, kFloorDb, kFloorDb}; // in L, in R, out L, out R
    int channels_ = 2;
};

} // namespace mfx::plugin
