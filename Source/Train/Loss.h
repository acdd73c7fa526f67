#pragma once
// The training loss: error-to-signal ratio over the samples after a warm-up prefix,
//   ESR = sum_t (e(y)_t - e(yhat)_t)^2 / sum_t e(y)_t^2,   t >= warmup,
// where e is the optional pre-emphasis filter e(x)_t = x_t - p x_{t-1} (p = 0.95; p = 0 is plain ESR).
// Over a batch the sums run over every segment (one ratio, not a mean of ratios); the denominator
// depends on the targets only, so each segment's gradient is computed independently.
//
// Optionally a multi-resolution STFT term (SpectralLoss.h) is added per segment: the batch loss is
//   ESR + stftWeight * mean over segments of stft(segment).
#include <cstddef>
#include <vector>

namespace mfx::train {

struct LossOptions {
    double preEmphasis = 0.95;                   // 0 = off
    double stftWeight = 0.0;                     // 0 = no STFT term
    std::vector<int> stftSizes{256, 1024, 4096}; // FFT sizes of the STFT term (hop size/4, Hann)
};

// sum over t >= warmup of e(target)_t^2 (the denominator's share of one segment).
double lossDenominator(const float* target, std::size_t L, std::size_t warmup, const LossOptions& o);

// Returns sum over t >= warmup of (e(target) - e(pred))_t^2 and writes gPred = d(numerator/denominator)/d(pred).
template <typename T>
double lossNumeratorAndGrad(const T* pred, const float* target, std::size_t L, std::size_t warmup, double denominator,
                            const LossOptions& o, T* gPred);

// One segment's share of the batch loss, ESR numerator / denominator + stftWeight * stft / batchSize,
// with gPred (L) = its gradient w.r.t. pred (overwritten). Both gradient backends use this.
template <typename T>
double segmentLossAndGrad(const T* pred, const float* target, std::size_t L, std::size_t warmup, double denominator,
                          int batchSize, const LossOptions& o, T* gPred);

// Plain ESR of a whole signal (no warm-up, no pre-emphasis): the validation metric.
double esr(const float* pred, const float* target, std::size_t n);
double esr(const double* pred, const float* target, std::size_t n);

} // namespace mfx::train
