#pragma once
// The trainer: random segments (warm-up prefix + counted part) from the training recordings, exact
// gradients from a GradientBackend (the CPU tape on threads, or CUDA), Adam, and validation ESR on
// whole recordings with the state starting at zero. Deterministic for a seed on a given backend.
#include "../Backend/Backend.h"
#include "GradientBackend.h"
#include "Loss.h"
#include "Optimizer.h"
#include "Params.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mfx::train {

// One aligned input/target pair at fixed knob settings.
struct Recording {
    std::vector<float> input;  // (n)
    std::vector<float> target; // (n)
    std::vector<float> cond;   // (nCond) constant over the recording
    std::string label;
};

struct TrainOptions {
    std::size_t segmentLength = 8192; // samples counted by the loss
    std::size_t warmup = 2048;        // samples run first so the state settles (not counted)
    int batchSize = 8;
    int threads = 1;
    long totalSteps = 1000;           // for the LR schedule
    std::uint64_t seed = 1;
    LossOptions loss;
    AdamOptions adam;
};

struct StepResult {
    double loss = 0;     // batch loss: ESR (with pre-emphasis if enabled) + the STFT term if enabled
    double gradNorm = 0; // before clipping
    double lr = 0;
};

// Output of `model` for a whole recording through the real-time engine, from zero state (the
// Capture issue's validation) or, with fromRest, from the model's rest state at the recording's
// conditioning (engineRestState: where the plugin, `mambafx live` and `mambafx render` start).
std::vector<float> renderRecording(const Model& model, const Recording& r, bool fromRest = false);
// Plain ESR over every recording (summed numerators / summed denominators), each run whole from zero
// state (or the rest state), recordings spread over `threads`. If `outputs` is given it receives each
// prediction. NaN when the targets are silent or a target or predicted sample is not finite (both
// validationEsr).
double validationEsr(const Model& model, const std::vector<Recording>& recs, int threads,
                     std::vector<std::vector<float>>* outputs = nullptr, bool fromRest = false);

// The same with every recording rendered whole through a render backend (Backend.h: the offline
// CPU path or CUDA) from the zero state, i.e. exactly what the engines produce from there (the
// Capture issue's definition); the backend is prepared for `model`.
double validationEsr(const Model& model, const std::vector<Recording>& recs, RenderBackend& backend,
                     std::vector<std::vector<float>>* outputs = nullptr);

class Trainer {
public:
    // Throws std::invalid_argument if a recording is shorter than one segment or conditioning sizes mismatch.
    // `backend` computes the gradients (nullptr: the CPU backend with o.threads).
    Trainer(const Model& init, std::vector<Recording> train, std::vector<Recording> val, const TrainOptions& o,
            std::unique_ptr<GradientBackend> backend = nullptr);

    StepResult step();
    // Plain ESR over every validation recording (summed numerators / summed denominators),
    // each run whole from zero state. If `outputs` is given it receives each prediction.
    // Renders through the validation backend when one is set, else with the real-time engine.
    double validate(std::vector<std::vector<float>>* outputs = nullptr) const;
    void setValidationBackend(std::unique_ptr<RenderBackend> b) { valBackend_ = std::move(b); }


    long stepIndex() const { return step_; }
    // The learning-rate schedule's length (TrainOptions::totalSteps), changeable between steps: a
    // time-limited run sizes it from its measured step rate.
    void setTotalSteps(long n) { o_.totalSteps = n; }
    bool parametersFinite() const; // false once training has diverged (a weight is NaN or infinite)
    const Model& model() const { return model_; } // current parameters
    const std::vector<Recording>& validationSet() const { return val_; }
    const TrainOptions& options() const { return o_; }
    const GradientBackend& backend() const { return *backend_; }
    double samplesPerStep() const { return static_cast<double>(o_.batchSize) * static_cast<double>(o_.segmentLength + o_.warmup); }
    std::size_t trainSamples() const;

    // Checkpoint: parameters + optimiser state + step (the segment sampler is a function of seed and step).
    std::vector<std::uint8_t> checkpoint() const;
    void restore(const std::vector<std::uint8_t>& bytes); // throws std::runtime_error naming the problem

private:
    void syncModel();

    Model model_;
    ParamLayout layout_;
    std::vector<double> params_; // (layout.total)
    std::vector<Recording> train_, val_;
    TrainOptions o_;
    std::unique_ptr<GradientBackend> backend_;
    std::unique_ptr<RenderBackend> valBackend_; // optional, for validate()
    Adam adam_;
    long step_ = 0;
};

} // namespace mfx::train
