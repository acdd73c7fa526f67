// The multi-resolution STFT term of the training loss: its value against a plain float64 DFT
// written here from the formula, its gradient against central finite differences of that value,
// its place in the batch loss, and a short training run that uses it.
#include "Model/RandomModel.h"
#include "Train/Loss.h"
#include "Train/SpectralLoss.h"
#include "Train/Trainer.h"
#include "TrainSignals.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <random>

using namespace mfx;
using namespace mfx::train;

namespace {

// SpectralLoss.h's definition, by direct DFT in double.
double referenceStft(const std::vector<double>& pred, const std::vector<float>& tgt, std::size_t warmup, const std::vector<int>& sizes) {
    const std::size_t counted = pred.size() - warmup;
    double value = 0;
    int used = 0;
    for (int N : sizes) used += static_cast<std::size_t>(N) <= counted ? 1 : 0;
    for (int N : sizes) {
        if (static_cast<std::size_t>(N) > counted) continue;
        const int hop = N / 4, frames = static_cast<int>((counted - static_cast<std::size_t>(N)) / static_cast<std::size_t>(hop)) + 1;
        double dd = 0, tt = 0, lm = 0;
        for (int f = 0; f < frames; ++f)
            for (int k = 0; k <= N / 2; ++k) {
                std::complex<double> P = 0, T = 0;
                for (int n = 0; n < N; ++n) {
                    const double w = 0.5 - 0.5 * std::cos(2 * M_PI * n / N);
                    const std::complex<double> e = std::polar(1.0, -2 * M_PI * k * n / N);
                    const std::size_t t = warmup + static_cast<std::size_t>(f * hop + n);
                    P += w * pred[t] * e;
                    T += w * static_cast<double>(tgt[t]) * e;
                }
                const double a = std::abs(P), b = std::abs(T);
                dd += (a - b) * (a - b);
                tt += b * b;
                lm += std::fabs(std::log(a + 1e-5) - std::log(b + 1e-5));
            }
        const double cells = frames * (N / 2 + 1);
        value += (std::sqrt(dd) / std::sqrt(tt + 1e-6 * cells) + lm / cells) / used;
    }
    return value;
}

} // namespace

TEST_CASE("STFT loss term: value and gradient against a float64 DFT and finite differences", "[train]") {
    std::mt19937_64 rng(4);
    std::normal_distribution<double> g(0.0, 0.3);
    const std::size_t L = 700, warmup = 120;
    const std::vector<int> sizes{16, 64, 1024}; // 1024 does not fit: skipped
    std::vector<double> pred(L);
    std::vector<float> tgt(L);
    for (std::size_t t = 0; t < L; ++t) {
        tgt[t] = static_cast<float>(std::tanh(3 * std::sin(t * 0.07)) * 0.5 + 0.05 * g(rng));
        pred[t] = 0.8 * tgt[t] + 0.1 * g(rng);
    }
    std::vector<double> grad(L, 0.0);
    const double scale = 2.5;
    const double v = stftLossAndGrad(pred.data(), tgt.data(), L, warmup, sizes, scale, grad.data());
    const double ref = referenceStft(pred, tgt, warmup, sizes);
    INFO("value " << v << ", float64 DFT " << ref);
    CHECK(std::fabs(v - ref) <= 1e-5 * ref);
    for (std::size_t t = 0; t < warmup; ++t) REQUIRE(grad[t] == 0.0); // the warm-up is not counted
    std::uniform_int_distribution<std::size_t> pick(warmup, L - 1);
    double num = 0, den = 0;
    for (int i = 0; i < 16; ++i) {
        const std::size_t t = pick(rng);
        const double h = 1e-5;
        auto p = pred;
        p[t] += h;
        const double up = referenceStft(p, tgt, warmup, sizes);
        p[t] -= 2 * h;
        const double down = referenceStft(p, tgt, warmup, sizes);
        const double fd = scale * (up - down) / (2 * h);
        num += (grad[t] - fd) * (grad[t] - fd);
        den += fd * fd;
    }
    INFO("relative gradient error " << std::sqrt(num / den));
    CHECK(std::sqrt(num / den) < 1e-3);
    // Equal signals: zero loss and zero gradient.
    std::vector<double> same(tgt.begin(), tgt.end()), g0(L, 0.0);
    CHECK(stftLossAndGrad(same.data(), tgt.data(), L, warmup, sizes, 1.0, g0.data()) < 1e-6);
    for (double x : g0) REQUIRE(std::fabs(x) < 1e-6);
    // A silent target: finite value, bounded gradient.
    std::vector<float> silent(L, 0.0f);
    std::vector<double> gs(L, 0.0);
    const double vs = stftLossAndGrad(pred.data(), silent.data(), L, warmup, sizes, 1.0, gs.data());
    CHECK(std::isfinite(vs));
    for (double x : gs) REQUIRE(std::fabs(x) < 1e4);
}

TEST_CASE("STFT loss term in the batch loss, and a training run that uses it", "[train]") {
    const std::size_t L = 4000, warmup = 500;
    std::vector<float> tgt = traintest::driveLowpass(traintest::pluckSignal(L, 5), 3.0);
    std::vector<float> pred(L);
    for (std::size_t t = 0; t < L; ++t) pred[t] = 0.7f * tgt[t];
    LossOptions o;
    o.preEmphasis = 0;
    const double den = lossDenominator(tgt.data(), L, warmup, o);
    std::vector<float> g1(L), g2(L);
    const double esrOnly = segmentLossAndGrad(pred.data(), tgt.data(), L, warmup, den, 4, o, g1.data());
    CHECK(esrOnly == Approx(0.09).epsilon(1e-4)); // (1 - 0.7)^2
    o.stftWeight = 0.5;
    const double both = segmentLossAndGrad(pred.data(), tgt.data(), L, warmup, den, 4, o, g2.data());
    const double stft = stftLossAndGrad(pred.data(), tgt.data(), L, warmup, o.stftSizes, 0.0, static_cast<float*>(nullptr));
    CHECK(stft > 0);
    CHECK(both == Approx(esrOnly + 0.5 / 4 * stft).epsilon(1e-9));
    CHECK(g1 != g2);

    // A short run on the synthetic effect with the STFT term on still learns the waveform.
    const auto [tr, va] = traintest::syntheticRecordings();
    Config c;
    c.dModel = 8; c.nLayers = 1; c.dState = 8; c.dConv = 4; c.expand = 2; c.dtRank = 1;
    TrainOptions to;
    to.segmentLength = 1024; to.warmup = 256; to.batchSize = 4; to.threads = 2; to.totalSteps = 250;
    to.adam.lr = 1e-2; to.adam.lrFinal = 5e-4; to.adam.warmupSteps = 20;
    to.loss.preEmphasis = 0.0;
    to.loss.stftWeight = 0.1;
    to.loss.stftSizes = {64, 256, 1024};
    Trainer trainer(randomModel(c, 7), {tr}, {va}, to);
    for (long s = 0; s < to.totalSteps; ++s) trainer.step();
    const double e = trainer.validate();
    std::printf("[train] synthetic run with the STFT term (weight 0.1): validation ESR %.5f after %ld steps\n", e, to.totalSteps);
    CHECK(e < 0.03);
}
