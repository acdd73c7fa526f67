// RateChain: resampling, the engine slot and the latency FIFO (see RateChain.h).
#include "RateChain.h"

#include <Engine/Sanitize.h>

#include <algorithm>
#include <cmath>

namespace mfx::plugin {

RateChain::RateChain(double hostRate, double modelRate)
    : hostRate_(hostRate), modelRate_(modelRate), resampling_(std::abs(hostRate - modelRate) > 1e-6),
      modelChunk_(resampling_ ? static_cast<int>(std::ceil(kMaxChunk * modelRate / hostRate)) + 8 : kMaxChunk),
      slot_(kMaxChannels, modelChunk_) {
    if (resampling_) {
        for (int c = 0; c < kMaxChannels; ++c) {
            up_[c] = std::make_unique<Resampler>(hostRate, modelRate, 1, kQuality);
            down_[c] = std::make_unique<Resampler>(modelRate, hostRate, 1, kQuality);
            modelIn_[c].assign(static_cast<size_t>(modelChunk_), 0.0f);
            modelOut_[c].assign(static_cast<size_t>(modelChunk_), 0.0f);
            hostOut_[c].assign(static_cast<size_t>(kMaxChunk + 16), 0.0f);
        }
        latency_ = measureLatency();
        fifoSize_ = latency_ + 2 * kMaxChunk + 64;
        for (auto& f : fifo_) f.assign(static_cast<size_t>(fifoSize_), 0.0f);
    }
    for (auto& d : dryRing_) d.assign(static_cast<size_t>(latency_ + 1), 0.0f);
    reset();
}

RateChain::~RateChain() = default;

// The largest shortfall T - delivered(T) over a long run fed one host sample at a time. Delivery
// depends only on how many samples went in (not on their values or on the block split), so this
// bounds every block pattern.
int RateChain::measureLatency() {
    const float zero = 0.0f;
    long long produced = 0;
    int deficit = 0;
    const int steps = 8192 + 8 * (up_[0]->latencyOutputFrames() + down_[0]->latencyOutputFrames());
    for (int t = 1; t <= steps; ++t) {
        int used = 0;
        while (used < 1) {
            const auto r = up_[0]->process(&zero, 1, modelIn_[0].data(), static_cast<size_t>(modelChunk_));
            used += static_cast<int>(r.inputUsed);
            for (size_t done = 0; done < r.outputGenerated;) {
                const auto d = down_[0]->process(modelIn_[0].data() + done, r.outputGenerated - done, hostOut_[0].data(),
                                                 hostOut_[0].size());
                produced += static_cast<long long>(d.outputGenerated);
                done += d.inputUsed;
                if (d.inputUsed == 0 && d.outputGenerated == 0) break;
            }
            if (r.inputUsed == 0 && r.outputGenerated == 0) break;
        }
        deficit = std::max(deficit, static_cast<int>(t - produced));
    }
    return deficit;
}

void RateChain::reset() noexcept {
    slot_.reset();
    for (int c = 0; c < kMaxChannels; ++c) {
        if (up_[c]) up_[c]->reset();
        if (down_[c]) down_[c]->reset();
        std::fill(fifo_[c].begin(), fifo_[c].end(), 0.0f);
        std::fill(dryRing_[c].begin(), dryRing_[c].end(), 0.0f);
    }
    fifoRead_ = 0;
    fifoCount_ = latency_;
    dryPos_ = 0;
    offsetSet_ = false;
}

void RateChain::process(const float* const* in, const float* const* raw, float* const* wet, float* const* dry, int nch,
                        int n, bool linked) noexcept {
    nch = std::clamp(nch, 1, kMaxChannels);
    n = std::clamp(n, 0, kMaxChunk);
    if (n == 0) return;
    if (!started_.load(std::memory_order_relaxed)) started_.store(true, std::memory_order_release);
    if (resampling_)
        processResampled(in, wet, nch, n, linked);
    else
        runModel(in, wet, nch, n, linked);
    delayDry(raw, dry, nch, n);
}

void RateChain::setConditioning(const float* values) noexcept {
    slot_.setConditioning(values, kMaxCond);
}

void RateChain::runModel(const float* const* in, float* const* out, int nch, int n, bool linked) noexcept {
    if (linked && nch > 1) {
        slot_.process(in, out, 1, n);
        for (int c = 1; c < nch; ++c) std::copy(out[0], out[0] + n, out[c]);
    } else {
        slot_.process(in, out, nch, n);
    }
}

void RateChain::processResampled(const float* const* in, float* const* wet, int nch, int n, bool linked) noexcept {
    float* modelIn[kMaxChannels];
    float* modelOut[kMaxChannels];
    const float* modelInConst[kMaxChannels];
    for (int c = 0; c < kMaxChannels; ++c) {
        modelIn[c] = modelIn_[c].data();
        modelOut[c] = modelOut_[c].data();
        modelInConst[c] = modelIn[c];
    }
    if (!offsetSet_) {
        offset_ = slot_.restOutput();
        if (!std::isfinite(offset_)) offset_ = 0.0f; // a broken model must not make every later output NaN
        offsetSet_ = true;
    }
    for (int used = 0; used < n;) {
        // host -> model rate (every channel consumes and produces the same counts)
        Resampler::Result r{};
        for (int c = 0; c < nch; ++c) {
            const float* src = (linked ? in[0] : in[c]) + used;
            r = up_[c]->process(src, static_cast<size_t>(n - used), modelIn[c], static_cast<size_t>(modelChunk_));
        }
        const int gen = static_cast<int>(r.outputGenerated);
        if (gen > 0) runModel(modelInConst, modelOut, nch, gen, linked);
        for (int c = 0; c < nch; ++c)
            for (int i = 0; i < gen; ++i) modelOut[c][i] -= offset_;
        // model -> host rate, into the FIFO
        for (int done = 0; done < gen;) {
            Resampler::Result d{};
            for (int c = 0; c < nch; ++c)
                d = down_[c]->process(modelOut[c] + done, static_cast<size_t>(gen - done), hostOut_[c].data(),
                                      hostOut_[c].size());
            int k = std::min(static_cast<int>(d.outputGenerated), fifoSize_ - fifoCount_);
            const int write = (fifoRead_ + fifoCount_) % fifoSize_;
            const int first = std::min(k, fifoSize_ - write);
            for (int c = 0; c < nch; ++c) {
                std::copy(hostOut_[c].data(), hostOut_[c].data() + first, fifo_[c].data() + write);
                std::copy(hostOut_[c].data() + first, hostOut_[c].data() + k, fifo_[c].data());
            }
            fifoCount_ += k;
            done += static_cast<int>(d.inputUsed);
            if (d.inputUsed == 0 && d.outputGenerated == 0) break; // cannot happen; never spin
        }
        used += static_cast<int>(r.inputUsed);
        if (r.inputUsed == 0 && r.outputGenerated == 0) break;
    }
    // FIFO -> wet, plus the offset (the offset alone if it ever ran short, which the measured latency rules out)
    const int avail = std::min(n, fifoCount_);
    const int first = std::min(avail, fifoSize_ - fifoRead_);
    for (int c = 0; c < nch; ++c) {
        std::copy(fifo_[c].data() + fifoRead_, fifo_[c].data() + fifoRead_ + first, wet[c]);
        std::copy(fifo_[c].data(), fifo_[c].data() + (avail - first), wet[c] + first);
        std::fill(wet[c] + avail, wet[c] + n, 0.0f);
        for (int i = 0; i < n; ++i) wet[c][i] += offset_;
    }
    fifoRead_ = (fifoRead_ + avail) % fifoSize_;
    fifoCount_ -= avail;
}

// The dry signal is sanitised like the model's input (Engine/Sanitize.h: non-finite -> 0, clamp to
// +-1e4): a NaN from the host must not reach the output through (1 - mix) * dry or a crossfade.
void RateChain::delayDry(const float* const* raw, float* const* dry, int nch, int n) noexcept {
    if (latency_ == 0) {
        for (int c = 0; c < nch; ++c)
            for (int i = 0; i < n; ++i) dry[c][i] = sanitizeSample(raw[c][i]);
        return;
    }
    const int size = latency_ + 1;
    int pos = dryPos_;
    for (int c = 0; c < nch; ++c) {
        float* ring = dryRing_[c].data();
        pos = dryPos_;
        for (int i = 0; i < n; ++i) {
            ring[pos] = sanitizeSample(raw[c][i]);
            pos = pos + 1 == size ? 0 : pos + 1;
            dry[c][i] = ring[pos]; // written latency_ samples ago
        }
    }
    dryPos_ = pos;
}

} // namespace mfx::plugin
