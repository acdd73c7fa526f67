#include "RateAdapter.h"

#include "LiveOptions.h"

#include <algorithm>
#include <cmath>

namespace mfx::live {

RateAdapter::RateAdapter(double streamRate, double modelRate, int channels, int maxBlock, ResamplerQuality quality)
    : streamRate_(streamRate), modelRate_(modelRate), channels_(channels), maxBlock_(maxBlock),
      maxModelBlock_(static_cast<int>(std::ceil(maxBlock * modelRate / streamRate)) + 16),
      up_(streamRate, modelRate, channels, quality), down_(modelRate, streamRate, channels, quality) {
    if (channels < 1 || channels > kMaxChannels || maxBlock < 1)
        throw LiveError("RateAdapter: unsupported channel count or block size");
    // Frames the chain holds back, in stream frames: the first converter's (model frames, scaled), the
    // second's, and a frame of rounding for each; one block more covers the per-block jitter.
    latency_ = static_cast<int>(std::ceil(up_.latencyOutputFrames() * streamRate / modelRate)) +
               down_.latencyOutputFrames() + 4;
    const auto ch = static_cast<std::size_t>(channels);
    const auto maxModel = static_cast<std::size_t>(maxModelBlock_);
    const std::size_t maxDown = static_cast<std::size_t>(maxBlock) + 32;
    inI_.assign(static_cast<std::size_t>(maxBlock) * ch, 0.0f);
    modelI_.assign(maxModel * ch, 0.0f);
    modelIn_.assign(maxModel * ch, 0.0f);
    modelOut_.assign(maxModel * ch, 0.0f);
    outI_.assign(maxModel * ch, 0.0f);
    downI_.assign(maxDown * ch, 0.0f);
    fifoFrames_ = static_cast<std::size_t>(latency_) + 4 * static_cast<std::size_t>(maxBlock) + 64;
    fifo_.assign(fifoFrames_ * ch, 0.0f);
    fifoCount_ = static_cast<std::size_t>(latency_); // the initial silence
}

void RateAdapter::process(EngineSlot& slot, const float* const* in, float* const* out, int n) noexcept {
    const auto ch = static_cast<std::size_t>(channels_);
    const auto frames = static_cast<std::size_t>(std::min(n, maxBlock_));
    if (!offsetSet_) {
        offset_ = slot.restOutput();
        if (!std::isfinite(offset_)) offset_ = 0.0f; // a broken model must not make every later output NaN
        offsetSet_ = true;
    }
    // 1. Stream -> model rate.
    for (std::size_t i = 0; i < frames; ++i)
        for (std::size_t c = 0; c < ch; ++c) inI_[i * ch + c] = in[c][i];
    const auto up = up_.process(inI_.data(), frames, modelI_.data(), static_cast<std::size_t>(maxModelBlock_));
    const std::size_t m = up.outputGenerated; // inputUsed == frames: the output buffer has room for all

    // 2. The model at its own rate.
    const float* mi[kMaxChannels];
    float* mo[kMaxChannels];
    for (std::size_t c = 0; c < ch; ++c) {
        float* p = modelIn_.data() + c * static_cast<std::size_t>(maxModelBlock_);
        for (std::size_t i = 0; i < m; ++i) p[i] = modelI_[i * ch + c];
        mi[c] = p;
        mo[c] = modelOut_.data() + c * static_cast<std::size_t>(maxModelBlock_);
    }
    slot.process(mi, mo, channels_, static_cast<int>(m));
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t c = 0; c < ch; ++c) outI_[i * ch + c] = mo[c][i] - offset_;

    // 3. Model -> stream rate, into the FIFO.
    const auto down = down_.process(outI_.data(), m, downI_.data(), downI_.size() / ch);
    std::size_t write = (fifoRead_ + fifoCount_) % fifoFrames_;
    for (std::size_t i = 0; i < down.outputGenerated && fifoCount_ < fifoFrames_; ++i, ++fifoCount_) {
        for (std::size_t c = 0; c < ch; ++c) fifo_[write * ch + c] = downI_[i * ch + c];
        write = write + 1 == fifoFrames_ ? 0 : write + 1;
    }

    // 4. n frames out of the FIFO.
    if (fifoCount_ < frames) ++underruns_;
    for (std::size_t i = 0; i < frames; ++i) {
        if (fifoCount_ == 0) {
            for (std::size_t c = 0; c < ch; ++c) out[c][i] = offset_;
            continue;
        }
        for (std::size_t c = 0; c < ch; ++c) out[c][i] = fifo_[fifoRead_ * ch + c] + offset_;
        fifoRead_ = fifoRead_ + 1 == fifoFrames_ ? 0 : fifoRead_ + 1;
        --fifoCount_;
    }
}

} // namespace mfx::live
