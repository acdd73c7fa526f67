#pragma once
// Everything between the host's audio and the engine for one (host rate, model rate) pair.
//
//   equal rates:     in --> EngineSlot (the model) --> wet                       latency 0
//   different rates: in --> Resampler host->model --> EngineSlot --> Resampler model->host
//                       --> FIFO that holds `latency` samples --> wet             latency D
//
// The resamplers (Source/Dsp/Resampler.h, libsamplerate) are time-aligned but deliver late; the FIFO
// starts with D zeros, D being the largest shortfall of delivered vs. consumed samples (measured at
// construction by running the two converters one sample at a time), so it never runs dry for any
// block size and the wet signal is the model's output delayed by exactly D host samples.
// The raw input is delayed by the same D for the dry path (mix, bypass).
// The model's output goes through the down-converter and the FIFO less a constant offset, the rest
// output of the engine it starts with (RealtimeEngine::restOutput), which is added back after the
// FIFO: wet = down(out - offset) + offset, the same signal once the converter has filled, but one that
// starts at the model's rest output instead of stepping up to it from the FIFO's zeros.
//
// Channels run in lockstep (same sample counts), so the linked mode can switch on and off freely.
// Construction allocates (off the audio thread); process() and reset() are real-time safe.
#include <Dsp/Resampler.h>
#include <Engine/EngineSlot.h>

#include <atomic>
#include <memory>
#include <vector>

namespace mfx::plugin {

class RateChain {
public:
    static constexpr int kMaxChannels = 2;
    static constexpr int kMaxChunk = 256; // host samples per process() call
    static constexpr ResamplerQuality kQuality = ResamplerQuality::Medium;

    // Throws std::invalid_argument for rates libsamplerate cannot convert.
    RateChain(double hostRate, double modelRate);
    ~RateChain();
    RateChain(const RateChain&) = delete;
    RateChain& operator=(const RateChain&) = delete;

    double hostRate() const noexcept { return hostRate_; }
    double modelRate() const noexcept { return modelRate_; }
    bool resampling() const noexcept { return resampling_; }
    int latency() const noexcept { return latency_; } // host samples
    // Whether process() has ever run: a chain that never made sound is replaced without a crossfade.
    bool started() const noexcept { return started_.load(std::memory_order_acquire); }

    EngineSlot& slot() noexcept { return slot_; }

    // Audio thread: conditioning values (kMaxCond, the current model's first) for the slot's engines,
    // re-applied when the slot picks up a new engine.
    static constexpr int kMaxCond = 16;
    void setConditioning(const float* values) noexcept;

    // Audio thread. nch <= kMaxChannels, n <= kMaxChunk.
    //  in:   model input per channel (after input gain; for linked, in[0] is the mono sum)
    //  raw:  the host's input per channel, delayed into dry
    //  wet:  model output per channel; dry: raw delayed by latency()
    //  linked: only channel 0 runs the model; every wet channel gets its output.
    void process(const float* const* in, const float* const* raw, float* const* wet, float* const* dry, int nch, int n,
                 bool linked) noexcept;

    // Audio thread (or while audio is stopped): silence in every buffer, engine state reset.
    void reset() noexcept;

private:
    int measureLatency();
    void processResampled(const float* const* in, float* const* wet, int nch, int n, bool linked) noexcept;
    void runModel(const float* const* in, float* const* out, int nch, int n, bool linked) noexcept;
    void delayDry(const float* const* raw, float* const* dry, int nch, int n) noexcept;

    double hostRate_, modelRate_;
    bool resampling_;
    int latency_ = 0;
    int modelChunk_ = kMaxChunk; // most model-rate samples one up-resampler call may produce
    EngineSlot slot_;
    std::atomic<bool> started_{false};

    std::unique_ptr<Resampler> up_[kMaxChannels], down_[kMaxChannels];
    std::vector<float> modelIn_[kMaxChannels];  // (modelChunk) up-resampled input
    std::vector<float> modelOut_[kMaxChannels]; // (modelChunk) model output
    std::vector<float> hostOut_[kMaxChannels];  // (hostChunk) down-resampled output before the FIFO

    // Wet FIFO: one ring per channel, shared indices (channels run in lockstep).
    std::vector<float> fifo_[kMaxChannels]; // (fifoSize)
    int fifoSize_ = 0, fifoRead_ = 0, fifoCount_ = 0;

    // Dry delay line: ring of latency_ + 1 samples per channel.
    std::vector<float> dryRing_[kMaxChannels]; // (latency + 1)
    int dryPos_ = 0;

    float offset_ = 0.0f;     // audio thread: see the top of this file
    bool offsetSet_ = false;  // taken at the first resampled block after construction or reset()
};

} // namespace mfx::plugin
