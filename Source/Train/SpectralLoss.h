#pragma once
// The multi-resolution STFT term of the training loss (optional, Loss.h): for each FFT size N
// (hop N/4, Hann window of N samples) over the counted part of a segment (t >= warmup),
//   SC_N = || |Yhat| - |Y| ||_2 / sqrt(|| |Y| ||_2^2 + 1e-6 cells)   (spectral convergence; the floor
//          keeps a silent target segment finite and its gradient bounded)
//   LM_N = mean over bins and frames of | log(|Yhat| + eps) - log(|Y| + eps) |,  eps = 1e-5
// and the segment's value is the mean of SC_N + LM_N over the sizes whose frame fits in the
// counted part (none fits: 0). Y: the target's one-sided spectrum, Yhat: the prediction's.
#include <cstddef>
#include <vector>

namespace mfx::train {

// Returns the value and adds scale * d(value)/d(pred) into gPred (L). FFTs by kissfft (float).
template <typename T>
double stftLossAndGrad(const T* pred, const float* target, std::size_t L, std::size_t warmup, const std::vector<int>& fftSizes,
                       double scale, T* gPred);

} // namespace mfx::train
