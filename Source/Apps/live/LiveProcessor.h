#pragma once
// The body of the live audio callback, independent of RtAudio so tests and the benchmark drive it:
//   input gain -> EngineSlot (the real-time engine, lock-free model hand-over; through a RateAdapter when
//   the model runs at another rate) -> mix with the dry input ->
//   output gain -> bypass crossfade -> device; then recorders, status board and load histogram.
// Real-time safe: process() never allocates, locks, throws, logs or does I/O; denormals are flushed
// for its duration. All buffers are sized in the constructor for blocks up to maxBlock frames;
// longer blocks are processed in pieces.
#include "LoadHistogram.h"
#include "StatusBoard.h"

#include <Engine/EngineSlot.h>

#include <atomic>
#include <vector>

namespace mfx::live {

class Recorder;
class RateAdapter;

struct ProcessorSettings {
    int inputChannels = 1;  // engine channels; 1 = mono input copied to every output
    int outputChannels = 2;
    int maxBlock = 1024;
    double sampleRate = 48000.0;
    float inputGain = 1.0f;
    float outputGain = 1.0f;
    float mix = 1.0f; // 0 = dry, 1 = wet
};

class LiveProcessor {
public:
    static constexpr int kBypassRampSamples = 256;

    // `recorder` (optional) gets the output channels, `inputRecorder` (optional) the raw input channels.
    // `adapter` (optional) runs the model at its own rate (RateAdapter.h); the dry signal is then
    // delayed by the adapter's latency so that the mix lines up.
    LiveProcessor(const ProcessorSettings& settings, EngineSlot& slot, StatusBoard& status, Recorder* recorder,
                  Recorder* inputRecorder = nullptr, RateAdapter* adapter = nullptr);

    // Audio thread. in: inputChannels planar buffers, out: outputChannels planar buffers, n frames.
    // `xrun`: the driver reported an over/underflow before this block.
    void process(const float* const* in, float* const* out, int n, bool xrun) noexcept;

    // Any thread.
    void setBypass(bool on) noexcept { bypassTarget_.store(on, std::memory_order_relaxed); }
    bool bypass() const noexcept { return bypassTarget_.load(std::memory_order_relaxed); }

    // Read only while process() is not running (after the stream stopped, or single-threaded).
    const LoadHistogram& loadHistogram() const noexcept { return histogram_; }
    LoadHistogram& loadHistogram() noexcept { return histogram_; }
    const ProcessorSettings& settings() const noexcept { return s_; }

private:
    void processPiece(const float* const* in, float* const* out, int n, float& inPeak, float& outPeak) noexcept;

    ProcessorSettings s_;
    EngineSlot& slot_;
    StatusBoard& status_;
    Recorder* recorder_;
    Recorder* inputRecorder_;
    RateAdapter* adapter_;
    int dryDelay_ = 0;          // frames: the adapter's latency, or 0
    std::vector<float> dryLine_; // (inputChannels, dryDelay + maxBlock) delay line for the dry input
    std::size_t dryPos_ = 0;    // audio thread: write position in dryLine_
    std::vector<float> dry_;    // (inputChannels, maxBlock) the dry input of this piece (delayed)
    std::vector<float> gained_; // (inputChannels, maxBlock) input after gain: the model's input
    std::vector<float> wet_;    // (inputChannels, maxBlock) model output
    std::atomic<bool> bypassTarget_{false};
    float bypassAmount_ = 0.0f; // audio thread: 0 = processed, 1 = input passed through
    LoadHistogram histogram_;   // audio thread
};

} // namespace mfx::live
