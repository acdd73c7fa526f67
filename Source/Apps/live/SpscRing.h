#pragma once
// Single-producer single-consumer ring of interleaved float frames, lock-free and wait-free.
// The producer (audio thread) writes planar blocks, the consumer (writer thread) reads interleaved
// frames. Capacity is rounded up to a power of two frames; all memory is allocated in the constructor.
//
// Memory order: the producer fills slots then publishes writePos_ with release; the consumer reads
// writePos_ with acquire, copies, then publishes readPos_ with release (and vice versa).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mfx::live {

class SpscRing {
public:
    SpscRing(int channels, std::size_t minCapacityFrames) : channels_(channels) {
        std::size_t cap = 1;
        while (cap < minCapacityFrames) cap <<= 1;
        capacityFrames_ = cap;
        data_.assign(cap * static_cast<std::size_t>(channels), 0.0f); // (capacityFrames, channels)
    }

    int channels() const noexcept { return channels_; }
    std::size_t capacityFrames() const noexcept { return capacityFrames_; }

    // Producer. Writes all n frames of `planar` (channels pointers) or none; returns false when full.
    bool pushPlanar(const float* const* planar, std::size_t n) noexcept {
        const std::uint64_t w = writePos_.load(std::memory_order_relaxed);
        const std::uint64_t r = readPos_.load(std::memory_order_acquire);
        if (capacityFrames_ - static_cast<std::size_t>(w - r) < n) return false;
        const std::size_t mask = capacityFrames_ - 1;
        for (std::size_t i = 0; i < n; ++i) {
            float* frame = data_.data() + ((static_cast<std::size_t>(w) + i) & mask) * static_cast<std::size_t>(channels_);
            for (int c = 0; c < channels_; ++c) frame[c] = planar[c][i];
        }
        writePos_.store(w + n, std::memory_order_release);
        return true;
    }

    // Consumer. Copies up to maxFrames interleaved frames into `out`; returns the number copied.
    std::size_t pop(float* out, std::size_t maxFrames) noexcept {
        const std::uint64_t r = readPos_.load(std::memory_order_relaxed);
        const std::uint64_t w = writePos_.load(std::memory_order_acquire);
        std::size_t n = static_cast<std::size_t>(w - r);
        if (n > maxFrames) n = maxFrames;
        const std::size_t mask = capacityFrames_ - 1;
        const std::size_t ch = static_cast<std::size_t>(channels_);
        for (std::size_t i = 0; i < n; ++i) {
            const float* frame = data_.data() + ((static_cast<std::size_t>(r) + i) & mask) * ch;
            for (std::size_t c = 0; c < ch; ++c) out[i * ch + c] = frame[c];
        }
        readPos_.store(r + n, std::memory_order_release);
        return n;
    }

    // Either side: frames waiting to be read (a snapshot).
    std::size_t available() const noexcept {
        return static_cast<std::size_t>(writePos_.load(std::memory_order_acquire) - readPos_.load(std::memory_order_acquire));
    }

private:
    int channels_;
    std::size_t capacityFrames_ = 0;
    std::vector<float> data_; // (capacityFrames, channels) interleaved
    alignas(64) std::atomic<std::uint64_t> writePos_{0}; // frames ever written
    alignas(64) std::atomic<std::uint64_t> readPos_{0};  // frames ever read
};

} // namespace mfx::live
