#pragma once
// Rendering one audio file through a model, streamed in windows so memory stays bounded:
//
//   file (fileRate, C channels) --input gain--> [Resampler fileRate -> model rate]
//     --> backend (C streams, each with its own state) --> [Resampler model rate -> fileRate]
//     --> dry/wet mix (dry delayed to line up) --> output gain --> temp file --> rename
//
// The resamplers are time-aligned (see Dsp/Resampler.h). At the end, their held-back latency is
// pushed out with that many frames of silence after the input (so the model output around the last
// frames is real, as if the file were followed by silence), they are flushed, and the output is cut
// to exactly the input's length. Without resampling and with unit
// gains and mix 1, the output samples are exactly the backend's.
#include "RenderPlan.h"

#include <Dsp/Resampler.h>
#include <Engine/State.h>
#include <Model/Weights.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace mfx {
class RenderBackend;
}

namespace mfx::apps {

struct RenderSettings {
    float inputGain = 1.0f;  // linear, before the model (dry is taken before it)
    float outputGain = 1.0f; // linear, after the mix
    float mix = 1.0f;        // 0 = dry only, 1 = model only
    ResamplerQuality quality = ResamplerQuality::Best;
    std::size_t windowFrames = 1 << 16; // file frames read per step
    std::vector<float> conditioning;    // (nCond) held values
    std::optional<State> initialState;  // every stream starts here (mambafx render: engineRestState()); none: zero
};

struct RenderStats {
    std::int64_t frames = 0; // frames written (= frames read)
    double audioSeconds = 0.0;
    double wallSeconds = 0.0;
    std::int64_t clippedSamples = 0; // |y| > 1 in an integer or lossy output
    float peak = 0.0f;               // max |y| written
    bool resampled = false;
};

using ProgressCallback = std::function<void(std::int64_t inputFramesDone)>;

// A backend and what it was last prepared for. Files with the same model and channel count reuse the
// preparation: reset() (all state zero) instead of prepare(), which on a GPU uploads the weights and
// allocates. Drive it from one thread at a time.
class PreparedBackend {
public:
    explicit PreparedBackend(RenderBackend& backend) : backend_(backend) {}
    // The backend with `channels` streams of `model`, all state zero.
    RenderBackend& begin(const Model& model, int channels);
    RenderBackend& backend() { return backend_; }

private:
    RenderBackend& backend_;
    const Model* model_ = nullptr; // what the backend holds now (nullptr: nothing prepared yet)
    int channels_ = 0;
};

// Renders job.input to job.output (via a temporary file). Throws Failure on file or processing
// errors (also when the input's channels, rate or length differ from job.info: it changed since it
// was planned) and Interrupted on Ctrl-C; in both cases no output and no temporary file remain.
RenderStats renderFile(const RenderJob& job, const Model& model, PreparedBackend& backend,
                       const RenderSettings& settings, const ProgressCallback& progress = {});
// The same, preparing `backend` afresh.
RenderStats renderFile(const RenderJob& job, const Model& model, RenderBackend& backend,
                       const RenderSettings& settings, const ProgressCallback& progress = {});

float decibelsToGain(double dB);

} // namespace mfx::apps
