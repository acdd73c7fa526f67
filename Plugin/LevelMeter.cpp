// Level meter drawing (see LevelMeter.h).
#include "LevelMeter.h"

#include <algorithm>
#include <cmath>

namespace mfx::plugin {

void LevelMeter::push(const float (&in)[2], const float (&out)[2], int channels, float secondsSinceLast) {
    channels_ = std::clamp(channels, 1, 2);
    const float values[4] = {in[0], in[1], out[0], out[1]};
    const float fall = 24.0f * secondsSinceLast; // dB per second of fall-off
    for (int i = 0; i < 4; ++i) {
        const float db = juce::Decibels::gainToDecibels(values[i], kFloorDb);
        db_[i] = std::max(db, std::max(kFloorDb, db_[i] - fall));
    }
    repaint();
}

void LevelMeter::paintBar(juce::Graphics& g, juce::Rectangle<float> area, float db) {
    g.setColour(juce::Colour(0xff1d2126));
    g.fillRoundedRectangle(area, 2.0f);
    const float t = std::clamp((db - kFloorDb) / -kFloorDb, 0.0f, 1.0f);
    auto fill = area.withTop(area.getBottom() - t * area.getHeight());
    g.setColour(db > -0.1f ? juce::Colours::red : (db > -12.0f ? juce::Colours::orange : juce::Colour(0xff4fc36b)));
    g.fillRoundedRectangle(fill, 2.0f);
}

void LevelMeter::paint(juce::Graphics& g) {
    auto area = getLocalBounds().toFloat();
    auto labels = area.removeFromBottom(16.0f);
    const int bars = 2 * channels_;
    const float gap = 4.0f;
    const float barWidth = (area.getWidth() - gap * static_cast<float>(bars + 1)) / static_cast<float>(bars);
    g.setFont(12.0f);
    for (int b = 0; b < bars; ++b) {
        const int index = b < channels_ ? b : 2 + (b - channels_);
        const auto bar = juce::Rectangle<float>(area.getX() + gap + static_cast<float>(b) * (barWidth + gap), area.getY(),
                                                barWidth, area.getHeight());
        paintBar(g, bar, db_[index]);
    }
    g.setColour(juce::Colours::lightgrey);
    g.drawText("in", labels.removeFromLeft(labels.getWidth() / 2), juce::Justification::centred);
    g.drawText("out", labels, juce::Justification::centred);
    // dB scale ticks
    g.setColour(juce::Colours::white.withAlpha(0.25f));
    for (float db : {-48.0f, -24.0f, -12.0f, -6.0f, 0.0f}) {
        const float y = area.getBottom() - (db - kFloorDb) / -kFloorDb * area.getHeight();
        g.drawHorizontalLine(static_cast<int>(y), area.getX(), area.getRight());
    }
}

} // namespace mfx::plugin
