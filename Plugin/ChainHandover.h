#pragma once
// Lock-free hand-over of whole RateChains, for the rare swaps a model's engine alone cannot do: a new
// model at another sample rate (other resamplers, other latency). Same pattern as the core's
// EngineSlot: a loader publishes, the audio thread picks the chain up at the start of a block with one
// atomic exchange and crossfades old -> new (wet and dry) over kCrossfadeSamples (at once if the old
// chain never processed audio), then parks the old chain in a retire slot; collect() frees retired chains off the audio thread.
// Swaps between models of the same rate go through the chain's EngineSlot instead.
#include "RateChain.h"

#include <atomic>
#include <memory>
#include <vector>

namespace mfx::plugin {

class ChainHandover {
public:
    static constexpr int kCrossfadeSamples = 1024;
    static constexpr int kMaxCond = 16; // values passed to setConditioning (EngineSlot keeps 16)

    ChainHandover();
    ~ChainHandover();

    // Non-audio thread, only while the audio thread is not running (prepareToPlay): frees everything
    // and makes `chain` current at once, without a crossfade.
    void installNow(std::unique_ptr<RateChain> chain);
    // Non-audio thread. A chain published earlier that the audio thread has not picked up yet is
    // replaced and freed here (whoever exchanges the pending pointer first owns it, so this is safe).
    void publish(std::unique_ptr<RateChain> chain);
    // Non-audio thread: frees retired chains and the engines their slots retired.
    int collect();

    // Audio thread: like RateChain::process; with no chain, wet = in and dry = raw.
    void process(const float* const* in, const float* const* raw, float* const* wet, float* const* dry, int nch, int n,
                 bool linked) noexcept;
    void setConditioning(const float* values) noexcept;
    void reset() noexcept;

    // For display only (the chain may change right after the call).
    const RateChain* current() const noexcept { return current_.load(std::memory_order_acquire); }

private:
    void retire(RateChain* chain) noexcept;

    std::atomic<RateChain*> pending_{nullptr};
    std::atomic<RateChain*> current_{nullptr};
    RateChain* fadingOut_ = nullptr; // audio thread only
    int fadePos_ = 0;                // audio thread only
    static constexpr int kRetireSlots = 8;
    std::atomic<RateChain*> retired_[kRetireSlots] = {};
    std::vector<float> scratch_; // (2 * kMaxChannels, kMaxChunk) old chain's wet and dry during a crossfade
    float cond_[kMaxCond];       // last conditioning values, given to each new chain
};

} // namespace mfx::plugin
