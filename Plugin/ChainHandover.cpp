// ChainHandover: lock-free RateChain swaps with a crossfade (see ChainHandover.h).
#include "ChainHandover.h"

#include <algorithm>

namespace mfx::plugin {

ChainHandover::ChainHandover()
    : scratch_(static_cast<size_t>(2 * RateChain::kMaxChannels * RateChain::kMaxChunk), 0.0f) {
    std::fill(std::begin(cond_), std::end(cond_), 0.0f);
}

ChainHandover::~ChainHandover() {
    delete pending_.exchange(nullptr);
    delete current_.exchange(nullptr);
    delete fadingOut_;
    for (auto& r : retired_) delete r.exchange(nullptr);
}

void ChainHandover::installNow(std::unique_ptr<RateChain> chain) {
    delete pending_.exchange(nullptr);
    delete fadingOut_;
    fadingOut_ = nullptr;
    fadePos_ = 0;
    for (auto& r : retired_) delete r.exchange(nullptr);
    if (chain) chain->setConditioning(cond_);
    delete current_.exchange(chain.release(), std::memory_order_acq_rel);
}

void ChainHandover::publish(std::unique_ptr<RateChain> chain) {
    delete pending_.exchange(chain.release(), std::memory_order_acq_rel);
}

int ChainHandover::collect() {
    if (RateChain* cur = current_.load(std::memory_order_acquire)) cur->slot().collect();
    if (RateChain* next = pending_.load(std::memory_order_acquire)) next->slot().collect();
    int freed = 0;
    for (auto& r : retired_) {
        if (RateChain* old = r.exchange(nullptr, std::memory_order_acq_rel)) {
            delete old;
            ++freed;
        }
    }
    return freed;
}

void ChainHandover::retire(RateChain* chain) noexcept {
    for (auto& r : retired_) {
        RateChain* expected = nullptr;
        if (r.compare_exchange_strong(expected, chain, std::memory_order_acq_rel)) return;
    }
    // Unreachable: a chain is only picked up while a retire slot is free (see process()).
}

void ChainHandover::process(const float* const* in, const float* const* raw, float* const* wet, float* const* dry,
                            int nch, int n, bool linked) noexcept {
    // Pick up a published chain when no crossfade is running and its predecessor has a place to go.
    if (fadingOut_ == nullptr && pending_.load(std::memory_order_acquire) != nullptr) {
        bool freeSlot = false;
        for (auto& r : retired_) freeSlot = freeSlot || r.load(std::memory_order_acquire) == nullptr;
        if (freeSlot) {
            RateChain* next = pending_.exchange(nullptr, std::memory_order_acq_rel);
            next->setConditioning(cond_);
            RateChain* old = current_.exchange(next, std::memory_order_acq_rel);
            if (old != nullptr && old->started()) {
                fadingOut_ = old; // crossfade from what was playing
                fadePos_ = 0;
            } else if (old != nullptr) {
                retire(old); // it never made a sound: switch at once
            }
        }
    }
    RateChain* cur = current_.load(std::memory_order_acquire);
    if (cur == nullptr) {
        for (int c = 0; c < nch; ++c) {
            std::copy(in[c], in[c] + n, wet[c]);
            std::copy(raw[c], raw[c] + n, dry[c]);
        }
        return;
    }
    cur->process(in, raw, wet, dry, nch, n, linked);
    if (fadingOut_ == nullptr) return;

    float* oldWet[RateChain::kMaxChannels];
    float* oldDry[RateChain::kMaxChannels];
    for (int c = 0; c < RateChain::kMaxChannels; ++c) {
        oldWet[c] = scratch_.data() + static_cast<size_t>(c) * RateChain::kMaxChunk;
        oldDry[c] = scratch_.data() + static_cast<size_t>(RateChain::kMaxChannels + c) * RateChain::kMaxChunk;
    }
    fadingOut_->process(in, raw, oldWet, oldDry, nch, n, linked);
    int pos = fadePos_;
    for (int c = 0; c < nch; ++c) {
        pos = fadePos_;
        for (int i = 0; i < n; ++i, ++pos) {
            const float g = pos >= kCrossfadeSamples ? 1.0f : static_cast<float>(pos) / kCrossfadeSamples;
            wet[c][i] = g * wet[c][i] + (1.0f - g) * oldWet[c][i];
            dry[c][i] = g * dry[c][i] + (1.0f - g) * oldDry[c][i];
        }
    }
    fadePos_ = pos;
    if (fadePos_ >= kCrossfadeSamples) {
        retire(fadingOut_);
        fadingOut_ = nullptr;
    }
}

void ChainHandover::setConditioning(const float* values) noexcept {
    std::copy(values, values + kMaxCond, cond_);
    if (RateChain* cur = current_.load(std::memory_order_acquire)) cur->setConditioning(cond_);
    if (fadingOut_ != nullptr) fadingOut_->setConditioning(cond_);
}

void ChainHandover::reset() noexcept {
    if (RateChain* cur = current_.load(std::memory_order_acquire)) cur->reset();
    if (fadingOut_ != nullptr) fadingOut_->reset();
}

} // namespace mfx::plugin
