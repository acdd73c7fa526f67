#pragma once
// Where a training step's forward and backward passes run. The CPU backend runs the float tape
// (Tape.h) on threads, one segment each; the CUDA backend (Kernels/Train) runs the whole batch on a
// GPU. Both compute the same function: the batch loss of Loss.h (segmentLossAndGrad, computed on
// the host by both) and its exact gradient with respect to every parameter, every segment starting
// from zero state.
#include "Loss.h"
#include "Params.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace mfx::train {

// One batch of training segments (warm-up prefix + counted part), each from zero state.
struct SegmentBatch {
    std::size_t length = 0;           // samples per segment, warm-up included
    std::size_t warmup = 0;           // leading samples the loss does not count
    std::vector<const float*> input;  // (batch) each (length)
    std::vector<const float*> target; // (batch) each (length)
    std::vector<const float*> cond;   // (batch) each (nCond), constant over the segment; empty if nCond == 0
    std::size_t size() const { return input.size(); }
};

class GradientBackend {
public:
    virtual ~GradientBackend() = default;
    virtual std::string name() const = 0; // e.g. "cpu (16 threads)", "cuda:0 (NVIDIA H200)"

    // Returns the batch loss (the sum of segmentLossAndGrad over the segments, `denominator` being the
    // batch's ESR denominator) and writes grad (layout.total, overwritten) = d(loss)/d(params).
    virtual double lossAndGradient(const std::vector<double>& params, const SegmentBatch& batch, double denominator,
                                   const LossOptions& loss, std::vector<double>& grad) = 0;

    // The model's output for each segment of the last lossAndGradient() call: (batch, length).
    virtual std::vector<float> lastOutput() const = 0;

    // Where the time of the calls so far went, when the backend was asked to profile (CUDA: the
    // environment variable MFX_TRAIN_PROFILE); empty otherwise.
    virtual std::string profileReport() const { return {}; }
};

// The CPU backend: segments spread over `threads`, gradients summed in segment order in float64, so
// the result does not depend on the thread count.
std::unique_ptr<GradientBackend> makeCpuGradientBackend(const Config& config, int threads);

// Implemented by Kernels/ when built with CUDA, else by Backend/CudaUnavailable.cpp. Returns nullptr
// and sets whyNot when there is no usable device.
std::unique_ptr<GradientBackend> makeCudaGradientBackend(int deviceIndex, const Config& config, std::string& whyNot);

// "auto" | "cpu" | "cuda" | "cuda:N" (as for rendering). Falls back to the CPU with a message in
// `notice` where the GPU is not usable. Throws ModelError for a malformed device string.
std::unique_ptr<GradientBackend> makeGradientBackend(const std::string& device, const Config& config, int threads,
                                                     std::string& notice);

} // namespace mfx::train
