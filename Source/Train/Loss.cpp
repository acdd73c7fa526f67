#include "Loss.h"
#include "SpectralLoss.h"

#include <algorithm>

namespace mfx::train {

namespace {
template <typename T> double emph(const T* x, std::size_t t, double p) {
    return static_cast<double>(x[t]) - (t > 0 ? p * static_cast<double>(x[t - 1]) : 0.0);
}
template <typename P> double esrImpl(const P* pred, const float* target, std::size_t n) {
    double num = 0, den = 0;
    for (std::size_t t = 0; t < n; ++t) {
        const double e = static_cast<double>(target[t]) - static_cast<double>(pred[t]);
        num += e * e;
        den += static_cast<double>(target[t]) * static_cast<double>(target[t]);
    }
    return den > 0 ? num / den : (num > 0 ? 1e30 : 0.0);
}
} // namespace

double lossDenominator(const float* target, std::size_t L, std::size_t warmup, const LossOptions& o) {
    double den = 0;
    for (std::size_t t = warmup; t < L; ++t) {
        const double e = emph(target, t, o.preEmphasis);
        den += e * e;
    }
    return den;
}

// num = sum_t d_t^2, d_t = e(pred)_t - e(target)_t = (pred_t - tgt_t) - p (pred_{t-1} - tgt_{t-1})
// d num / d pred_t = 2 d_t - 2 p d_{t+1}   (each term present only where t, t+1 are counted)
template <typename T>
double lossNumeratorAndGrad(const T* pred, const float* target, std::size_t L, std::size_t warmup, double den,
                            const LossOptions& o, T* gPred) {
    const double p = o.preEmphasis;
    const double scale = den > 0 ? 2.0 / den : 0.0;
    std::fill(gPred, gPred + L, T(0));
    double num = 0;
    for (std::size_t t = warmup; t < L; ++t) {
        const double diffT = static_cast<double>(pred[t]) - static_cast<double>(target[t]);
        const double diffP = t > 0 ? static_cast<double>(pred[t - 1]) - static_cast<double>(target[t - 1]) : 0.0;
        const double d = diffT - p * diffP;
        num += d * d;
        gPred[t] += static_cast<T>(scale * d);
        if (t > 0) gPred[t - 1] += static_cast<T>(-p * scale * d);
    }
    return num;
}

template <typename T>
double segmentLossAndGrad(const T* pred, const float* target, std::size_t L, std::size_t warmup, double den, int batchSize,
                          const LossOptions& o, T* gPred) {
    const double num = lossNumeratorAndGrad(pred, target, L, warmup, den, o, gPred);
    double loss = den > 0 ? num / den : 0.0;
    if (o.stftWeight > 0) {
        const double w = o.stftWeight / std::max(1, batchSize);
        loss += w * stftLossAndGrad(pred, target, L, warmup, o.stftSizes, w, gPred);
    }
    return loss;
}

template double segmentLossAndGrad<float>(const float*, const float*, std::size_t, std::size_t, double, int, const LossOptions&, float*);
template double segmentLossAndGrad<double>(const double*, const float*, std::size_t, std::size_t, double, int, const LossOptions&, double*);
template double lossNumeratorAndGrad<float>(const float*, const float*, std::size_t, std::size_t, double, const LossOptions&, float*);
template double lossNumeratorAndGrad<double>(const double*, const float*, std::size_t, std::size_t, double, const LossOptions&, double*);

double esr(const float* pred, const float* target, std::size_t n) { return esrImpl(pred, target, n); }
double esr(const double* pred, const float* target, std::size_t n) { return esrImpl(pred, target, n); }

} // namespace mfx::train
