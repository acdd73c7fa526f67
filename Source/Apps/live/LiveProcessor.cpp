#include "LiveProcessor.h"

#include "LiveOptions.h"
#include "RateAdapter.h"
#include "Recorder.h"

#include <Engine/Denormals.h>
#include <Engine/Sanitize.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace mfx::live {

LiveProcessor::LiveProcessor(const ProcessorSettings& settings, EngineSlot& slot, StatusBoard& status, Recorder* recorder,
                             Recorder* inputRecorder, RateAdapter* adapter)
    : s_(settings), slot_(slot), status_(status), recorder_(recorder), inputRecorder_(inputRecorder), adapter_(adapter) {
    if (s_.inputChannels < 1 || s_.inputChannels > kMaxChannels || s_.outputChannels < 1 ||
        s_.outputChannels > kMaxChannels || (s_.inputChannels != 1 && s_.inputChannels != s_.outputChannels) ||
        s_.maxBlock < 1 || !(s_.sampleRate > 0.0))
        throw LiveError("LiveProcessor: unsupported channel layout, block size or sample rate");
    const auto size = static_cast<std::size_t>(s_.inputChannels) * static_cast<std::size_t>(s_.maxBlock);
    gained_.assign(size, 0.0f);
    wet_.assign(size, 0.0f);
    dry_.assign(size, 0.0f);
    if (adapter_) {
        dryDelay_ = adapter_->latencyFrames();
        dryLine_.assign(static_cast<std::size_t>(s_.inputChannels) * static_cast<std::size_t>(dryDelay_ + s_.maxBlock), 0.0f);
    }
}

void LiveProcessor::process(const float* const* in, float* const* out, int n, bool xrun) noexcept {
    const auto t0 = std::chrono::steady_clock::now();
    ScopedFlushDenormals noDenormals;
    float inPeak = 0.0f, outPeak = 0.0f;
    const float* inPiece[kMaxChannels];
    float* outPiece[kMaxChannels];
    for (int done = 0; done < n;) {
        const int m = std::min(s_.maxBlock, n - done);
        for (int c = 0; c < s_.inputChannels; ++c) inPiece[c] = in[c] + done;
        for (int c = 0; c < s_.outputChannels; ++c) outPiece[c] = out[c] + done;
        processPiece(inPiece, outPiece, m, inPeak, outPeak);
        if (recorder_) recorder_->push(outPiece, m);
        if (inputRecorder_) inputRecorder_->push(inPiece, m);
        done += m;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double load = n > 0 ? seconds * s_.sampleRate / n : 0.0;
    histogram_.add(load);
    status_.update(inPeak, outPeak, static_cast<float>(load), xrun, n);
}

void LiveProcessor::processPiece(const float* const* in, float* const* out, int n, float& inPeak, float& outPeak) noexcept {
    const int inCh = s_.inputChannels;
    const std::size_t stride = static_cast<std::size_t>(s_.maxBlock);
    const float* gainedPtr[kMaxChannels];
    float* wetPtr[kMaxChannels];
    // Input gain; the engine sanitizes too, but the meters need finite values.
    for (int c = 0; c < inCh; ++c) {
        float* g = gained_.data() + static_cast<std::size_t>(c) * stride;
        for (int i = 0; i < n; ++i) {
            const float x = sanitizeSample(in[c][i] * s_.inputGain);
            g[i] = x;
            inPeak = std::max(inPeak, std::fabs(x));
        }
        gainedPtr[c] = g;
        wetPtr[c] = wet_.data() + static_cast<std::size_t>(c) * stride;
    }

    // The model. Picks up a newly published engine at the start of the block (with a crossfade).
    if (adapter_) adapter_->process(slot_, gainedPtr, wetPtr, n);
    else slot_.process(gainedPtr, wetPtr, inCh, n);

    // The dry input, delayed like the wet signal when the model runs at another rate.
    const float* dryPtr[kMaxChannels];
    for (int c = 0; c < inCh; ++c) {
        if (dryDelay_ == 0) {
            dryPtr[c] = in[c];
            continue;
        }
        const std::size_t len = static_cast<std::size_t>(dryDelay_) + stride;
        float* line = dryLine_.data() + static_cast<std::size_t>(c) * len;
        float* d = dry_.data() + static_cast<std::size_t>(c) * stride;
        std::size_t w = dryPos_;
        for (int i = 0; i < n; ++i) {
            line[w] = in[c][i];
            std::size_t r = w + len - static_cast<std::size_t>(dryDelay_);
            d[i] = line[r >= len ? r - len : r];
            w = w + 1 == len ? 0 : w + 1;
        }
        dryPtr[c] = d;
    }
    if (dryDelay_ > 0) dryPos_ = (dryPos_ + static_cast<std::size_t>(n)) % (static_cast<std::size_t>(dryDelay_) + stride);

    // Mix, output gain, bypass, as `mambafx render` mixes: out = outGain * (mix * wet + (1 - mix) * x)
    // with x the untouched input; with mix 1 and 0 dB the model's output passes bit for bit.
    const float wetGain = s_.mix, dryGain = 1.0f - s_.mix, outGain = s_.outputGain;
    const bool target = bypassTarget_.load(std::memory_order_relaxed);
    const float startBypass = bypassAmount_;
    float bypass = startBypass;
    const float step = 1.0f / kBypassRampSamples;
    for (int o = 0; o < s_.outputChannels; ++o) {
        const int e = inCh == 1 ? 0 : o;
        const float* wet = wetPtr[e];
        const float* raw = dryPtr[e];
        float* y = out[o];
        bypass = startBypass;
        for (int i = 0; i < n; ++i) {
            const float x = sanitizeSample(raw[i]);
            float v = outGain * (wetGain * wet[i] + dryGain * x);
            if (bypass != 0.0f || target) {
                bypass = target ? std::min(1.0f, bypass + step) : std::max(0.0f, bypass - step);
                v = (1.0f - bypass) * v + bypass * x; // exactly the input at bypass 1
            }
            y[i] = v;
            outPeak = std::max(outPeak, std::fabs(v));
        }
    }
    bypassAmount_ = bypass;
}

} // namespace mfx::live
