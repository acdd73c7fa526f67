#include "EngineSlot.h"

#include <algorithm>
#include <cstring>

namespace mfx {

float EngineSlot::restOutput() const noexcept {
    const RealtimeEngine* e = current_.load(std::memory_order_acquire);
    if (!e) e = pending_.load(std::memory_order_acquire); // not freed while pending: only this thread takes it
    return e ? e->restOutput() : 0.0f;
}

EngineSlot::EngineSlot(int maxChannels, int maxBlock)
    : scratch_(static_cast<std::size_t>(std::max(1, maxChannels)) * static_cast<std::size_t>(std::max(1, maxBlock)), 0.0f),
      cond_(kMaxCond, 0.0f), maxChannels_(std::max(1, maxChannels)), maxBlock_(std::max(1, maxBlock)) {}

EngineSlot::~EngineSlot() {
    delete pending_.exchange(nullptr);
    delete current_.exchange(nullptr);
    delete fadingOut_;
    delete parked_[0];
    delete parked_[1];
    collect();
}

bool EngineSlot::publish(std::unique_ptr<RealtimeEngine>& next) {
    collect();
    RealtimeEngine* expected = nullptr;
    if (!pending_.compare_exchange_strong(expected, next.get(), std::memory_order_acq_rel)) return false;
    next.release();
    return true;
}

int EngineSlot::collect() {
    int freed = 0;
    for (auto& slot : retired_) {
        if (RealtimeEngine* e = slot.exchange(nullptr, std::memory_order_acq_rel)) {
            delete e;
            ++freed;
        }
    }
    return freed;
}

bool EngineSlot::retire(RealtimeEngine* e) noexcept {
    for (auto& slot : retired_) {
        RealtimeEngine* expected = nullptr;
        if (slot.compare_exchange_strong(expected, e, std::memory_order_acq_rel)) return true;
    }
    return false;
}

void EngineSlot::process(const float* const* in, float* const* out, int numChannels, int n) noexcept {
    // a previously parked engine goes to the retire slots as soon as one is free
    for (auto& p : parked_)
        if (p && retire(p)) p = nullptr;
    if (!parked_[0] && !parked_[1]) {
        if (RealtimeEngine* next = pending_.exchange(nullptr, std::memory_order_acq_rel)) {
            next->setConditioning(cond_.data());
            RealtimeEngine* old = current_.load(std::memory_order_relaxed);
            if (fadingOut_ && !retire(fadingOut_)) park(fadingOut_); // a fade still running: cut it short
            fadingOut_ = old;
            fadePos_ = 0;
            current_.store(next, std::memory_order_release);
        }
    }
    RealtimeEngine* cur = current_.load(std::memory_order_relaxed);
    for (int done = 0; done < n;) {
        const int len = std::min(maxBlock_, n - done);
        for (int c = 0; c < numChannels; ++c) {
            const float* x = in[c] + done;
            float* y = out[c] + done;
            const bool fading = fadingOut_ && c < fadingOut_->numChannels() && c < maxChannels_;
            float* old = scratch_.data() + static_cast<std::size_t>(c) * static_cast<std::size_t>(maxBlock_);
            if (fading) fadingOut_->processChannel(c, x, old, len); // before y is written: in and out may alias
            if (cur && c < cur->numChannels()) cur->processChannel(c, x, y, len);
            else if (y != x) std::memcpy(y, x, static_cast<std::size_t>(len) * sizeof(float));
            if (fading) // linear crossfade old -> new over kCrossfadeSamples
                for (int i = 0; i < len; ++i) {
                    const float g = std::min(1.0f, static_cast<float>(fadePos_ + i) / static_cast<float>(kCrossfadeSamples));
                    y[i] = g * y[i] + (1.0f - g) * old[i];
                }
        }
        if (fadingOut_) {
            fadePos_ += len;
            if (fadePos_ >= kCrossfadeSamples) {
                if (!retire(fadingOut_)) park(fadingOut_);
                fadingOut_ = nullptr;
            }
        }
        done += len;
    }
}

void EngineSlot::setConditioning(const float* values, int count) noexcept {
    for (int j = 0; j < count && j < kMaxCond; ++j) cond_[static_cast<std::size_t>(j)] = values[j];
    if (RealtimeEngine* cur = current_.load(std::memory_order_relaxed)) cur->setConditioning(cond_.data());
    if (fadingOut_) fadingOut_->setConditioning(cond_.data());
}

void EngineSlot::reset() noexcept {
    if (RealtimeEngine* cur = current_.load(std::memory_order_relaxed)) cur->reset();
    if (fadingOut_) fadingOut_->reset();
}

} // namespace mfx
