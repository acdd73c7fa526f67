#pragma once
// The live status the audio thread publishes for the UI thread, lock-free.
//
// The audio thread calls update() once per callback; the UI thread calls take() a few times a second.
// Peaks and the worst callback load are "maximum since the last take()": the writer raises them with
// a compare-exchange loop (it only ever races against take()'s exchange, so it ends in a step or two),
// the reader resets them with an exchange, so no block is ever missed or counted twice.
// Counters (callbacks, xruns) only grow. All fields are lock-free atomics (static_assert below).
#include <atomic>
#include <cstdint>

namespace mfx::live {

struct StatusSnapshot {
    float inputPeak = 0.0f;   // max |x| at the model input (after input gain) since the last take
    float outputPeak = 0.0f;  // max |y| sent to the device since the last take
    float loadMax = 0.0f;     // worst callback time / buffer period since the last take
    float loadLast = 0.0f;    // the latest callback's time / buffer period
    std::uint64_t callbacks = 0;
    std::uint64_t xruns = 0;  // callbacks that came with an over/underflow flag
    std::uint64_t frames = 0;
};

class StatusBoard {
public:
    // Audio thread.
    void update(float inputPeak, float outputPeak, float load, bool xrun, int frames) noexcept {
        raise(inputPeak_, inputPeak);
        raise(outputPeak_, outputPeak);
        raise(loadMax_, load);
        loadLast_.store(load, std::memory_order_relaxed);
        frames_.store(frames_.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(frames), std::memory_order_relaxed);
        if (xrun) xruns_.store(xruns_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        callbacks_.store(callbacks_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    // UI thread: the values since the previous take(); resets the maxima.
    StatusSnapshot take() noexcept {
        StatusSnapshot s;
        s.callbacks = callbacks_.load(std::memory_order_acquire);
        s.xruns = xruns_.load(std::memory_order_relaxed);
        s.frames = frames_.load(std::memory_order_relaxed);
        s.loadLast = loadLast_.load(std::memory_order_relaxed);
        s.inputPeak = inputPeak_.exchange(0.0f, std::memory_order_relaxed);
        s.outputPeak = outputPeak_.exchange(0.0f, std::memory_order_relaxed);
        s.loadMax = loadMax_.exchange(0.0f, std::memory_order_relaxed);
        return s;
    }

    // Any thread: counters only, resets nothing.
    std::uint64_t callbacks() const noexcept { return callbacks_.load(std::memory_order_acquire); }
    std::uint64_t xruns() const noexcept { return xruns_.load(std::memory_order_relaxed); }
    std::uint64_t frames() const noexcept { return frames_.load(std::memory_order_relaxed); }

private:
    static void raise(std::atomic<float>& a, float v) noexcept {
        float cur = a.load(std::memory_order_relaxed);
        while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
        }
    }

    std::atomic<float> inputPeak_{0.0f}, outputPeak_{0.0f}, loadMax_{0.0f}, loadLast_{0.0f};
    std::atomic<std::uint64_t> callbacks_{0}, xruns_{0}, frames_{0};
    static_assert(std::atomic<float>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free);
};

} // namespace mfx::live
