#pragma once
// Lock-free model hand-over for real-time hosts (plugin, live app).
//
//  - A loader thread builds and warms a RealtimeEngine off the audio thread, then publish()es it.
//  - The audio thread calls process(); at the start of a block it picks up a pending engine with one
//    atomic exchange and crossfades old -> new over kCrossfadeSamples (no click). Afterwards it parks
//    the old engine in a retire slot (atomic) — it never frees memory.
//  - collect() (any non-audio thread: a timer, the loader) frees retired engines.
// No allocation, lock, exception or I/O on the audio thread. Engines must have numChannels >= the
// channels passed to process() and must fit maxBlock (any n is processed in sub-blocks).
#include "RealtimeEngine.h"

#include <atomic>
#include <memory>
#include <vector>

namespace mfx {

namespace test {
struct EngineSlotProbe; // Tests/Core/EngineSlotParkingTests.cpp: fills the retire slots to reach the parked path
}

class EngineSlot {
public:
    static constexpr int kCrossfadeSamples = 1024;

    // maxChannels/maxBlock size the crossfade scratch (allocated here, off the audio thread).
    EngineSlot(int maxChannels, int maxBlock);
    ~EngineSlot();

    // Non-audio thread. Returns false if a previously published engine has not been picked up yet
    // (call again later); the engine is then left in `next`.
    bool publish(std::unique_ptr<RealtimeEngine>& next);
    // Non-audio thread: frees engines the audio thread has retired. Returns how many were freed.
    int collect();

    // Audio thread. Processes numChannels channels of n samples; with no engine, copies input to output.
    void process(const float* const* in, float* const* out, int numChannels, int n) noexcept;
    // Audio thread: the conditioning inputs' values in order, `count` of them (at most 16 are kept).
    // They are held for every engine, the current, the fading and the next one: each reads its own
    // nCond of them; inputs never set are 0. So a model with more inputs than the last one still
    // gets the values set for them.
    void setConditioning(const float* values, int count) noexcept;
    void reset() noexcept;

    // The engine the audio thread is using (for display; may change right after the call).
    const RealtimeEngine* current() const noexcept { return current_.load(std::memory_order_acquire); }
    bool swapPending() const noexcept { return pending_.load(std::memory_order_acquire) != nullptr; }
    // Audio thread: restOutput() of the engine in use, else of the one waiting to be picked up, else 0.
    float restOutput() const noexcept;

private:
    // publish() collects first and only a few engines are retired between two publishes, so the retire
    // slots do not fill through this API: the parked path below is reached only by a test that fills them.
    friend struct test::EngineSlotProbe;
    std::atomic<RealtimeEngine*> pending_{nullptr};
    std::atomic<RealtimeEngine*> current_{nullptr};
    bool retire(RealtimeEngine* e) noexcept; // audio thread: into a free retire slot, false if none
    RealtimeEngine* fadingOut_ = nullptr; // audio thread only
    // audio thread only: engines waiting for a free retire slot. No new engine is picked up while any
    // is parked, so at most two (a cut-short fade and the fade after it) can be waiting.
    RealtimeEngine* parked_[2] = {nullptr, nullptr};
    void park(RealtimeEngine* e) noexcept { (parked_[0] ? parked_[1] : parked_[0]) = e; }
    int fadePos_ = 0;                     // audio thread only
    static constexpr int kRetireSlots = 8;
    std::atomic<RealtimeEngine*> retired_[kRetireSlots] = {};
    std::vector<float> scratch_;          // (maxChannels, maxBlock) old engine's output during a crossfade
    static constexpr int kMaxCond = 16;   // Config allows nCond <= 16
    std::vector<float> cond_;             // (kMaxCond) last conditioning values
    int maxChannels_, maxBlock_;
};

} // namespace mfx
