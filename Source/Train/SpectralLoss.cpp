// Multi-resolution STFT loss and its gradient (formulas in SpectralLoss.h). The gradient of one
// frame: with g_k = d(value)/d|Yhat_k| and G_k = g_k Yhat_k / |Yhat_k| (k = 0..N/2),
//   d(value)/d pred[p + n] = w_n Re( sum_k G_k e^{+i 2 pi k n / N} )      (one inverse FFT)
#include "SpectralLoss.h"

#include <kiss_fft.h>

#include <cmath>
#include <complex>
#include <cstdlib>
#include <map>
#include <new>
#include <numbers>
#include <memory>
#include <utility>

namespace mfx::train {

namespace {

constexpr double kEps = 1e-5;
constexpr double kFloor = 1e-6; // per time-frequency cell, in the spectral convergence's denominator

// kiss_fft configurations per (size, direction), one set per thread (a configuration is read-only
// while transforming distinct buffers, but this keeps every thread independent of the others).
kiss_fft_cfg fftConfig(int n, bool inverse) {
    struct Free {
        void operator()(void* p) const { std::free(p); }
    };
    thread_local std::map<std::pair<int, bool>, std::unique_ptr<kiss_fft_state, Free>> cache;
    auto& slot = cache[{n, inverse}];
    if (!slot) slot.reset(kiss_fft_alloc(n, inverse ? 1 : 0, nullptr, nullptr));
    if (!slot) throw std::bad_alloc();
    return slot.get();
}

struct Frames {
    int N = 0, hop = 0, count = 0, bins = 0;
};

} // namespace

template <typename T>
double stftLossAndGrad(const T* pred, const float* target, std::size_t L, std::size_t warmup, const std::vector<int>& fftSizes,
                       double scale, T* gPred) {
    if (warmup >= L) return 0.0;
    const std::size_t counted = L - warmup;
    int used = 0;
    for (int N : fftSizes)
        if (N >= 4 && static_cast<std::size_t>(N) <= counted) ++used;
    if (used == 0) return 0.0;
    double value = 0.0;
    for (int N : fftSizes) {
        if (N < 4 || static_cast<std::size_t>(N) > counted) continue;
        Frames f;
        f.N = N;
        f.hop = N / 4;
        f.count = static_cast<int>((counted - static_cast<std::size_t>(N)) / static_cast<std::size_t>(f.hop)) + 1;
        f.bins = N / 2 + 1;
        std::vector<double> w(static_cast<std::size_t>(N)); // (N) periodic Hann window
        for (int n = 0; n < N; ++n) w[static_cast<std::size_t>(n)] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * n / N);
        const std::size_t cells = static_cast<std::size_t>(f.count) * static_cast<std::size_t>(f.bins);
        std::vector<std::complex<double>> P(cells);         // (frames, bins) prediction spectrum
        std::vector<double> magP(cells), magT(cells);        // (frames, bins)
        std::vector<kiss_fft_cpx> in(static_cast<std::size_t>(N)), out(static_cast<std::size_t>(N)); // (N)
        kiss_fft_cfg fwd = fftConfig(N, false), inv = fftConfig(N, true);
        for (int fr = 0; fr < f.count; ++fr) {
            const std::size_t p = warmup + static_cast<std::size_t>(fr) * static_cast<std::size_t>(f.hop);
            for (int pass = 0; pass < 2; ++pass) {
                for (int n = 0; n < N; ++n) {
                    const double x = pass == 0 ? static_cast<double>(pred[p + static_cast<std::size_t>(n)]) : target[p + static_cast<std::size_t>(n)];
                    in[static_cast<std::size_t>(n)] = {static_cast<float>(x * w[static_cast<std::size_t>(n)]), 0.0f};
                }
                kiss_fft(fwd, in.data(), out.data());
                for (int k = 0; k < f.bins; ++k) {
                    const std::size_t c = static_cast<std::size_t>(fr) * static_cast<std::size_t>(f.bins) + static_cast<std::size_t>(k);
                    const std::complex<double> X(out[static_cast<std::size_t>(k)].r, out[static_cast<std::size_t>(k)].i);
                    if (pass == 0) {
                        P[c] = X;
                        magP[c] = std::abs(X);
                    } else {
                        magT[c] = std::abs(X);
                    }
                }
            }
        }
        double dd = 0, tt = 0, lm = 0;
        for (std::size_t c = 0; c < cells; ++c) {
            const double d = magP[c] - magT[c];
            dd += d * d;
            tt += magT[c] * magT[c];
            lm += std::fabs(std::log(magP[c] + kEps) - std::log(magT[c] + kEps));
        }
        // The floor keeps a (near-)silent target segment from blowing up the spectral convergence
        // and its gradient: about -96 dB below a full-scale sine's bin at N = 256.
        const double S = std::sqrt(dd), Tn = std::sqrt(tt + kFloor * static_cast<double>(cells));
        value += (S / Tn + lm / static_cast<double>(cells)) / used;
        if (scale == 0.0) continue;
        // g = d(value)/d|Yhat| per cell, then back through |.|, the FFT and the window.
        const double s = scale / used;
        for (int fr = 0; fr < f.count; ++fr) {
            for (int n = 0; n < N; ++n) in[static_cast<std::size_t>(n)] = {0.0f, 0.0f};
            for (int k = 0; k < f.bins; ++k) {
                const std::size_t c = static_cast<std::size_t>(fr) * static_cast<std::size_t>(f.bins) + static_cast<std::size_t>(k);
                if (magP[c] <= 0.0) continue;
                const double lp = std::log(magP[c] + kEps), lt = std::log(magT[c] + kEps);
                const double sign = lp > lt ? 1.0 : (lp < lt ? -1.0 : 0.0);
                double g = sign / ((magP[c] + kEps) * static_cast<double>(cells));
                if (S > 0) g += (magP[c] - magT[c]) / (S * Tn);
                const std::complex<double> G = (g * s / magP[c]) * P[c];
                in[static_cast<std::size_t>(k)] = {static_cast<float>(G.real()), static_cast<float>(G.imag())};
            }
            kiss_fft(inv, in.data(), out.data());
            const std::size_t p = warmup + static_cast<std::size_t>(fr) * static_cast<std::size_t>(f.hop);
            for (int n = 0; n < N; ++n)
                gPred[p + static_cast<std::size_t>(n)] += static_cast<T>(w[static_cast<std::size_t>(n)] * out[static_cast<std::size_t>(n)].r);
        }
    }
    return value;
}

template double stftLossAndGrad<float>(const float*, const float*, std::size_t, std::size_t, const std::vector<int>&, double, float*);
template double stftLossAndGrad<double>(const double*, const float*, std::size_t, std::size_t, const std::vector<int>&, double, double*);

} // namespace mfx::train
