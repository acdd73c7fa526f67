#pragma once
// Runs the model at its own sample rate inside a stream at another rate:
//
//   n stream frames -> Resampler(stream -> model) -> EngineSlot (m model frames, m varies by a frame
//   from block to block) -> Resampler(model -> stream) -> FIFO -> n stream frames
//
// The converters (libsamplerate's sinc, Source/Dsp/Resampler.h) do not shift the signal but hold back
// a few frames; the FIFO starts with latencyFrames() frames of silence, enough that it never runs dry,
// so the output is the model's output delayed by exactly latencyFrames() stream frames. That latency is
// the price (about 1 ms with the fast converter at 44.1 <-> 48 kHz); the dry signal must be delayed by
// the same amount to mix with it.
// The model's output passes the down-converter and the FIFO less a constant offset, the rest output of
// the first engine the adapter runs (RealtimeEngine::restOutput), added back at the end: the same
// signal once the converter has filled, but starting at the model's rest output rather than stepping
// up to it from the FIFO's silence.
// Real-time safe: process() never allocates, locks or throws; all buffers are sized in the constructor
// for blocks up to maxBlock stream frames.
#include <Dsp/Resampler.h>
#include <Engine/EngineSlot.h>

#include <cstdint>
#include <vector>

namespace mfx::live {

class RateAdapter {
public:
    RateAdapter(double streamRate, double modelRate, int channels, int maxBlock, ResamplerQuality quality);

    double streamRate() const noexcept { return streamRate_; }
    double modelRate() const noexcept { return modelRate_; }
    int latencyFrames() const noexcept { return latency_; } // added latency, stream frames

    // Audio thread. in/out: `channels` planar buffers of n <= maxBlock stream frames.
    void process(EngineSlot& slot, const float* const* in, float* const* out, int n) noexcept;

    // Times the FIFO ran dry (never expected; counted, the gap filled with silence).
    std::uint64_t underruns() const noexcept { return underruns_; }

private:
    double streamRate_, modelRate_;
    int channels_, maxBlock_, maxModelBlock_;
    Resampler up_, down_;
    int latency_ = 0;
    std::vector<float> inI_;     // (maxBlock, channels) stream input, interleaved
    std::vector<float> modelI_;  // (maxModelBlock, channels) model-rate input, interleaved
    std::vector<float> modelIn_; // (channels, maxModelBlock) the same, planar
    std::vector<float> modelOut_;// (channels, maxModelBlock) model output, planar
    std::vector<float> outI_;    // (maxModelBlock, channels) model output, interleaved
    std::vector<float> downI_;   // (maxDownBlock, channels) back at the stream rate, interleaved
    std::vector<float> fifo_;    // (fifoFrames, channels) ring of stream-rate output, interleaved
    std::size_t fifoFrames_ = 0, fifoRead_ = 0, fifoCount_ = 0;
    std::uint64_t underruns_ = 0;
    float offset_ = 0.0f;
    bool offsetSet_ = false; // taken at the first process() call
};

} // namespace mfx::live
