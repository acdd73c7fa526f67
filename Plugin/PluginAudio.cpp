// MambaProcessor's real-time path: processBlock and reset. No allocation, lock, I/O or exception here.
#include "PluginProcessor.h"

#include <algorithm>

namespace mfx::plugin {

namespace {
// Meter peaks are "maximum since the editor's last exchange(0)": raise them with a CAS, so a peak the
// editor has just taken is not written back by a plain load-max-store.
void raisePeak(std::atomic<float>& a, float v) noexcept {
    float cur = a.load(std::memory_order_relaxed);
    while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
}
} // namespace

void MambaProcessor::reset() {
    chains_.reset();
    condPhase_ = 0;
}

void MambaProcessor::snapSmoothers() noexcept {
    inGain_.setCurrentAndTargetValue(juce::Decibels::decibelsToGain(inGainDb_->load(std::memory_order_relaxed)));
    outGain_.setCurrentAndTargetValue(juce::Decibels::decibelsToGain(outGainDb_->load(std::memory_order_relaxed)));
    mix_.setCurrentAndTargetValue(mixPercent_->load(std::memory_order_relaxed) / 100.0f);
    bypassAmount_.setCurrentAndTargetValue(bypass_->load(std::memory_order_relaxed) > 0.5f ? 1.0f : 0.0f);
    for (int i = 0; i < kCondParams; ++i) condSmooth_[i].setCurrentAndTargetValue(cond_[i]->load(std::memory_order_relaxed));
}

void MambaProcessor::takePeaks(float (&in)[2], float (&out)[2]) noexcept {
    for (int c = 0; c < 2; ++c) {
        in[c] = peakIn_[c].exchange(0.0f, std::memory_order_relaxed);
        out[c] = peakOut_[c].exchange(0.0f, std::memory_order_relaxed);
    }
}

void MambaProcessor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& /*midi*/) {
    juce::ScopedNoDenormals noDenormals;
    const auto startTicks = juce::Time::getHighResolutionTicks();
    const int n = buffer.getNumSamples();
    const int nch = std::min({getTotalNumInputChannels(), getTotalNumOutputChannels(), buffer.getNumChannels(), 2});
    for (int c = std::max(nch, 0); c < buffer.getNumChannels(); ++c) buffer.clear(c, 0, n);
    if (nch <= 0 || n <= 0) return;
    if (snapSmoothers_.exchange(false, std::memory_order_acq_rel)) snapSmoothers();

    inGain_.setTargetValue(juce::Decibels::decibelsToGain(inGainDb_->load(std::memory_order_relaxed)));
    outGain_.setTargetValue(juce::Decibels::decibelsToGain(outGainDb_->load(std::memory_order_relaxed)));
    mix_.setTargetValue(mixPercent_->load(std::memory_order_relaxed) / 100.0f);
    bypassAmount_.setTargetValue(bypass_->load(std::memory_order_relaxed) > 0.5f ? 1.0f : 0.0f);
    for (int i = 0; i < kCondParams; ++i) condSmooth_[i].setTargetValue(cond_[i]->load(std::memory_order_relaxed));
    const bool linked = nch == 2 && linked_->load(std::memory_order_relaxed) > 0.5f;

    for (int c = 0; c < nch; ++c)
        raisePeak(peakIn_[c], buffer.getMagnitude(c, 0, n));

    for (int pos = 0; pos < n;) {
        int len = std::min(kMaxChunk, n - pos);
        bool condMoving = false;
        for (auto& s : condSmooth_) condMoving = condMoving || s.isSmoothing();
        if (condMoving) len = std::min(len, kCondStep - condPhase_); // updates on a fixed sample grid

        for (int i = 0; i < ChainHandover::kMaxCond; ++i)
            condValues_[i] = i < kCondParams ? condSlots_.valueFor(i, condSmooth_[i].getCurrentValue())
                                             : condSlots_.defaultValue(i);
        chains_.setConditioning(condValues_);
        if (condMoving)
            for (auto& s : condSmooth_) s.skip(len);
        condPhase_ = (condPhase_ + len) % kCondStep;

        const float* raw[2] = {};
        float* out[2] = {};
        for (int c = 0; c < nch; ++c) {
            raw[c] = buffer.getReadPointer(c, pos);
            out[c] = buffer.getWritePointer(c, pos);
        }
        processPiece(raw, out, nch, len, linked);
        pos += len;
    }

    for (int c = 0; c < nch; ++c)
        raisePeak(peakOut_[c], buffer.getMagnitude(c, 0, n));
    const double seconds = juce::Time::highResolutionTicksToSeconds(juce::Time::getHighResolutionTicks() - startTicks);
    const double blockSeconds = n / std::max(1.0, getSampleRate());
    cpuAverage_ += (seconds / blockSeconds - cpuAverage_) * std::min(1.0, blockSeconds / 0.3); // ~0.3 s average
    cpuLoad_.store(static_cast<float>(cpuAverage_), std::memory_order_relaxed);
}

// One piece of at most kMaxChunk samples. `raw` and `out` may be the same (the host's) buffers:
// raw is read completely (into x and the chain's dry delay) before out is written.
void MambaProcessor::processPiece(const float* const* raw, float* const* out, int nch, int n, bool linked) noexcept {
    float* x[2] = {work_.data(), work_.data() + kMaxChunk};                     // (2, kMaxChunk) model input
    float* wet[2] = {work_.data() + 2 * kMaxChunk, work_.data() + 3 * kMaxChunk}; // (2, kMaxChunk)
    float* dry[2] = {work_.data() + 4 * kMaxChunk, work_.data() + 5 * kMaxChunk}; // (2, kMaxChunk)

    // input gain (exactly the input at 0 dB)
    if (inGain_.isSmoothing()) {
        for (int i = 0; i < n; ++i) {
            const float g = inGain_.getNextValue();
            for (int c = 0; c < nch; ++c) x[c][i] = raw[c][i] * g;
        }
    } else {
        const float g = inGain_.getTargetValue();
        for (int c = 0; c < nch; ++c) {
            if (g == 1.0f)
                std::copy(raw[c], raw[c] + n, x[c]);
            else
                for (int i = 0; i < n; ++i) x[c][i] = raw[c][i] * g;
        }
    }
    if (linked)
        for (int i = 0; i < n; ++i) x[0][i] = 0.5f * (x[0][i] + x[1][i]);

    chains_.process(x, raw, wet, dry, nch, n, linked);

    // y = outGain * (mix * wet + (1 - mix) * dry); out = (1 - b) * y + b * dry
    const bool identity = !mix_.isSmoothing() && mix_.getTargetValue() == 1.0f && !outGain_.isSmoothing() &&
                          outGain_.getTargetValue() == 1.0f && !bypassAmount_.isSmoothing() &&
                          bypassAmount_.getTargetValue() == 0.0f;
    if (identity) {
        for (int c = 0; c < nch; ++c) std::copy(wet[c], wet[c] + n, out[c]);
        return;
    }
    for (int i = 0; i < n; ++i) {
        const float m = mix_.getNextValue();
        const float g = outGain_.getNextValue();
        const float b = bypassAmount_.getNextValue();
        for (int c = 0; c < nch; ++c) {
            const float y = g * (m * wet[c][i] + (1.0f - m) * dry[c][i]);
            out[c][i] = b == 0.0f ? y : (1.0f - b) * y + b * dry[c][i];
        }
    }
}

} // namespace mfx::plugin
