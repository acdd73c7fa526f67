// The CUDA gradient backend (Kernels/Train) against the CPU tape and the float64 tape: outputs,
// loss and every parameter's gradient, on fresh random models and batches; determinism; a short
// training run on the synthetic effect; the out-of-memory message. Skips without a GPU.
#include "GpuTestSupport.h"
#include "../Core/TrainSignals.h"
#include "Train/GradientBackend.h"
#include "Train/Tape.h"
#include "Train/Trainer.h"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>

using namespace mfx;
using namespace mfx::train;
using mfx::gputest::relL2;

namespace {

struct Batch {
    std::vector<std::vector<float>> in, target, cond; // (B)(L), (B)(L), (B)(nCond)
    SegmentBatch view(std::size_t warmup) const {
        SegmentBatch b;
        b.length = in[0].size();
        b.warmup = warmup;
        for (std::size_t i = 0; i < in.size(); ++i) {
            b.input.push_back(in[i].data());
            b.target.push_back(target[i].data());
            if (!cond[i].empty()) b.cond.push_back(cond[i].data());
        }
        return b;
    }
};

// Segments of noise bursts, sines and plucks with a driven, filtered target and knob values.
Batch makeBatch(int B, std::size_t L, int nCond, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Batch b;
    for (int i = 0; i < B; ++i) {
        std::vector<float> x = traintest::pluckSignal(L, seed * 31 + static_cast<std::uint64_t>(i));
        const double noise = 0.05 * u(rng);
        for (auto& v : x) v += static_cast<float>(noise * (2 * u(rng) - 1));
        if (i == 1) x[L / 2] = 0.9f; // an impulse
        b.target.push_back(traintest::driveLowpass(x, 2.0 + 4.0 * u(rng)));
        b.in.push_back(std::move(x));
        std::vector<float> c(static_cast<std::size_t>(nCond));
        for (auto& v : c) v = static_cast<float>(u(rng));
        b.cond.push_back(std::move(c));
    }
    return b;
}

double denominator(const Batch& b, std::size_t warmup, const LossOptions& lo) {
    double den = 0;
    for (const auto& t : b.target) den += lossDenominator(t.data(), t.size(), warmup, lo);
    return den;
}

// The float64 tape's batch loss and gradient (the ground truth of both float backends).
double doubleGradient(const Model& m, const Batch& b, std::size_t warmup, double den, const LossOptions& lo,
                      std::vector<double>& grad) {
    const Config& c = m.config;
    PreparedParams<double> pp(c);
    pp.set(flatten(m));
    SegmentPass<double> pass(c);
    grad.assign(ParamLayout(c).total, 0.0);
    double num = 0;
    for (std::size_t i = 0; i < b.in.size(); ++i) {
        const std::size_t L = b.in[i].size();
        std::vector<float> cond(L * static_cast<std::size_t>(c.nCond));
        for (std::size_t t = 0; t < L; ++t)
            for (int j = 0; j < c.nCond; ++j) cond[t * static_cast<std::size_t>(c.nCond) + static_cast<std::size_t>(j)] = b.cond[i][static_cast<std::size_t>(j)];
        std::vector<double> y(L), gy(L);
        pass.forward(pp, b.in[i].data(), c.nCond ? cond.data() : nullptr, L, y.data());
        num += segmentLossAndGrad(y.data(), b.target[i].data(), L, warmup, den, static_cast<int>(b.in.size()), lo, gy.data());
        pass.backward(pp, gy.data(), grad.data());
    }
    return num;
}

std::unique_ptr<GradientBackend> gpuBackend(const Config& c) {
    std::string why;
    auto g = makeCudaGradientBackend(0, c, why);
    INFO(why);
    REQUIRE(g != nullptr);
    return g;
}

} // namespace

TEST_CASE("CUDA training gradients equal the CPU tape's and the float64 tape's", "[gpu][train]") {
    MFX_REQUIRE_GPU();
    struct Case { int dModel, nLayers, dState, dConv, expand, dtRank, nCond; int B; std::size_t L, warmup; double preEmph; double stft = 0; };
    const Case cases[] = {
        {16, 2, 16, 4, 2, 1, 0, 4, 3000, 512, 0.0},  // the reference size
        {8, 1, 8, 4, 2, 1, 1, 3, 1500, 256, 0.95, 0.5}, // nano with a knob, pre-emphasis, STFT term
        {12, 3, 4, 2, 2, 2, 2, 5, 777, 100, 0.0},    // odd sizes, two knobs
        {32, 2, 16, 3, 2, 2, 0, 2, 2048, 300, 0.95}, // large
        {3, 2, 1, 1, 2, 1, 1, 3, 200, 20, 0.0},      // degenerate: dState 1, dConv 1
    };
    // Twice: with fixed seeds, models on which these tight bounds (1e-5; the GPU within 10x the CPU
    // tape's gradient error) were calibrated, a regression guard; then with fresh random models and
    // data, where a model may amplify float32 rounding (once, reference size: GPU output 2.7e-5 from
    // the CPU tape's, its gradient 4.6e-5 from float64 against the CPU's 3.9e-6), so float32's 1e-4.
    for (const bool fresh : {false, true}) {
    int k = 0;
    for (const auto& cs : cases) {
        Config c;
        c.dModel = cs.dModel; c.nLayers = cs.nLayers; c.dState = cs.dState; c.dConv = cs.dConv; c.expand = cs.expand;
        c.dtRank = cs.dtRank; c.nCond = cs.nCond;
        const std::uint64_t seedModel = (fresh ? gputest::fresh(100) : 100) + static_cast<std::uint64_t>(k);
        const std::uint64_t seedData = (fresh ? gputest::fresh(200) : 200) + static_cast<std::uint64_t>(k);
        const Model m = gputest::strongModel(c, seedModel, 0.3);
        const Batch b = makeBatch(cs.B, cs.L, cs.nCond, seedData);
        LossOptions lo;
        lo.preEmphasis = cs.preEmph;
        lo.stftWeight = cs.stft;
        const double den = denominator(b, cs.warmup, lo);
        const SegmentBatch view = b.view(cs.warmup);
        const auto params = flatten(m);

        std::vector<double> gRef, gCpu, gGpu;
        const double numRef = doubleGradient(m, b, cs.warmup, den, lo, gRef);
        auto cpu = makeCpuGradientBackend(c, 2);
        const double numCpu = cpu->lossAndGradient(params, view, den, lo, gCpu);
        auto gpu = gpuBackend(c);
        const double numGpu = gpu->lossAndGradient(params, view, den, lo, gGpu);

        const auto yCpu = cpu->lastOutput(), yGpu = gpu->lastOutput();
        const double outErr = relL2(yGpu, yCpu);
        const double errGpu = relL2(gGpu, gRef), errCpu = relL2(gCpu, gRef);
        std::printf("[errors] train grads%s %s B=%d L=%zu: output vs CPU %.3g, loss %.6g/%.6g/%.6g (gpu/cpu/f64), "
                    "gradient vs f64: gpu %.3g, cpu %.3g\n",
                    fresh ? " (fresh)" : "", c.summary().c_str(), cs.B, cs.L, outErr, numGpu, numCpu, numRef, errGpu, errCpu);
        // Per tensor, relative to the whole gradient's norm (a tiny tensor's own norm can be ~0).
        const ParamLayout layout(c);
        double gnorm = 0;
        for (double v : gRef) gnorm += v * v;
        gnorm = std::sqrt(gnorm);
        for (const auto& s : layout.slots) {
            double e = 0, ec = 0;
            for (std::size_t i = s.offset; i < s.offset + s.size; ++i) {
                e += (gGpu[i] - gRef[i]) * (gGpu[i] - gRef[i]);
                ec += (gCpu[i] - gRef[i]) * (gCpu[i] - gRef[i]);
            }
            e = std::sqrt(e) / gnorm;
            ec = std::sqrt(ec) / gnorm;
            if (e > 2e-5) std::printf("[errors]   %-32s gpu %.3g cpu %.3g\n", s.name.c_str(), e, ec);
            INFO(c.summary() << " tensor " << s.name << ": GPU error " << e << " (CPU float tape " << ec << ")");
            CHECK(e < (fresh ? std::max(1e-4, 3 * ec) : 1e-4));
        }
        INFO(c.summary() << (fresh ? ", fresh random model and data" : ", fixed seeds"));
        CHECK(outErr < (fresh ? 1e-4 : 1e-5));
        CHECK(std::fabs(numGpu - numRef) <= 1e-4 * numRef + 1e-12);
        // fresh models: float32's 1e-4, or for a model whose float64 gradient float32 tapes cannot
        // reach (a nano model with a knob: the CPU tape 7.1e-4 from it, the GPU 3.6e-4) no worse than
        // 3x the CPU tape
        CHECK(errGpu < (fresh ? std::max(1e-4, 3 * errCpu) : 1e-4));
        if (!fresh) CHECK(errGpu < std::max(1e-5, 10 * errCpu));
        ++k;
    }
    }
}

TEST_CASE("CUDA training gradients are deterministic", "[gpu][train]") {
    MFX_REQUIRE_GPU();
    const Config c = gputest::referenceSize();
    const Model m = gputest::strongModel(c, gputest::fresh(7));
    const Batch b = makeBatch(6, 4096, 0, gputest::fresh(9));
    const LossOptions lo{0.95};
    const double den = denominator(b, 1024, lo);
    auto gpu = gpuBackend(c);
    std::vector<double> g1, g2;
    const double n1 = gpu->lossAndGradient(flatten(m), b.view(1024), den, lo, g1);
    const double n2 = gpu->lossAndGradient(flatten(m), b.view(1024), den, lo, g2);
    auto other = gpuBackend(c); // a fresh backend (new buffers) too
    std::vector<double> g3;
    const double n3 = other->lossAndGradient(flatten(m), b.view(1024), den, lo, g3);
    CHECK(n1 == n2);
    CHECK(n1 == n3);
    CHECK(g1 == g2);
    CHECK(g1 == g3);
}

TEST_CASE("Training on the GPU learns the synthetic effect like the CPU trainer", "[gpu][train]") {
    MFX_REQUIRE_GPU();
    const auto [tr, va] = traintest::syntheticRecordings();
    Config c;
    c.dModel = 8; c.nLayers = 1; c.dState = 8; c.dConv = 4; c.expand = 2; c.dtRank = 1;
    TrainOptions o;
    o.segmentLength = 1024; o.warmup = 256; o.batchSize = 4; o.threads = 2; o.totalSteps = 400;
    o.adam.lr = 1e-2; o.adam.lrFinal = 5e-4; o.adam.warmupSteps = 20; o.loss.preEmphasis = 0.0;
    // The CPU test of the same run (Tests/Core/TrainSyntheticTest.cpp) requires ESR < 0.02.
    Trainer gpuTrainer(randomModel(c, 7), {tr}, {va}, o, gpuBackend(c));
    Trainer cpuTrainer(randomModel(c, 7), {tr}, {va}, o);
    double maxStepDiff = 0;
    for (long s = 0; s < o.totalSteps; ++s) {
        const auto rg = gpuTrainer.step();
        if (s < 20) { // the first steps follow the CPU trainer closely (later, float rounding diverges)
            const auto rc = cpuTrainer.step();
            maxStepDiff = std::max(maxStepDiff, std::fabs(rg.loss - rc.loss) / rc.loss);
        }
    }
    const double e = gpuTrainer.validate();
    std::printf("[train] GPU synthetic run: validation ESR %.5f after %ld steps; first-20-step loss difference to the CPU %.3g\n",
                e, o.totalSteps, maxStepDiff);
    // Validation through the CUDA render backend (forward passes on the GPU) agrees with the tape's.
    std::string why;
    auto render = makeCudaBackend(0, c, why);
    REQUIRE(render != nullptr);
    const double eGpu = validationEsr(gpuTrainer.model(), {va}, *render);
    std::printf("[train] validation ESR through the CUDA render backend %.6f, the float tape %.6f\n", eGpu, e);
    CHECK(std::fabs(eGpu - e) < 1e-5 + 1e-4 * e);
    CHECK(maxStepDiff < 1e-3);
    CHECK(e < 0.02);
    CHECK(gpuTrainer.backend().name().rfind("cuda:", 0) == 0);
}

TEST_CASE("A CUDA training batch too large for the GPU is refused with advice", "[gpu][train]") {
    MFX_REQUIRE_GPU();
    const Config c = gputest::referenceSize();
    const Model m = gputest::strongModel(c, gputest::fresh(7));
    const std::size_t L = 1 << 24;
    std::vector<float> x(L, 0.1f);
    SegmentBatch b;
    b.length = L;
    b.warmup = 0;
    for (int i = 0; i < 4096; ++i) { b.input.push_back(x.data()); b.target.push_back(x.data()); }
    auto gpu = gpuBackend(c);
    std::vector<double> g;
    CHECK_THROWS_WITH(gpu->lossAndGradient(flatten(m), b, 1.0, LossOptions{0.0}, g), Catch::Contains("smaller --batch or --segment"));
    // ... and the backend still works afterwards.
    const Batch small = makeBatch(2, 1000, 0, gputest::fresh(3));
    const double num = gpu->lossAndGradient(flatten(m), small.view(100), denominator(small, 100, LossOptions{0.0}), LossOptions{0.0}, g);
    CHECK(std::isfinite(num));
}

TEST_CASE("CUDA training profile: every part of a step is timed, the gradients are unchanged", "[gpu][train]") {
    MFX_REQUIRE_GPU();
    const Config c = gputest::referenceSize();
    const Model m = gputest::strongModel(c, gputest::fresh(8));
    const Batch b = makeBatch(3, 3000, 0, gputest::fresh(4));
    const LossOptions lo{0.0};
    const double den = denominator(b, 500, lo);
    auto plain = gpuBackend(c);
    CHECK(plain->profileReport().empty());
    setenv("MFX_TRAIN_PROFILE", "1", 1);
    auto profiled = gpuBackend(c);
    unsetenv("MFX_TRAIN_PROFILE");
    std::vector<double> g1, g2;
    plain->lossAndGradient(flatten(m), b.view(500), den, lo, g1);
    profiled->lossAndGradient(flatten(m), b.view(500), den, lo, g2);
    profiled->lossAndGradient(flatten(m), b.view(500), den, lo, g2);
    CHECK(g1 == g2);
    const std::string report = profiled->profileReport();
    std::printf("%s", report.c_str());
    for (const char* part : {"2 steps", "fwd scan", "bwd scan", "fwd in_proj", "bwd in_proj", "output copy + host loss", "gradient copy"})
        CHECK_THAT(report, Catch::Contains(part));
}

TEST_CASE("CUDA training scans in time chunks of any length give the sequential scan's gradients", "[gpu][train]") {
    MFX_REQUIRE_GPU();
    // MFX_TRAIN_SCAN_CHUNK sets the steps per chunk (0: one chunk, the sequential scan); without it the
    // backend picks chunks that fill the GPU. Short chunks, odd lengths, a last chunk of one step.
    struct Case { Config c; int B; std::size_t L, warmup; };
    Config small;
    small.dModel = 3; small.nLayers = 2; small.dState = 1; small.dConv = 1; small.expand = 2; small.dtRank = 1; small.nCond = 1;
    const Case cases[] = {{gputest::referenceSize(), 3, 3000, 500}, {small, 2, 701, 50}};
    int k = 0;
    for (const auto& cs : cases) {
        const Model m = gputest::strongModel(cs.c, gputest::fresh(300) + static_cast<std::uint64_t>(k), 0.3);
        const Batch b = makeBatch(cs.B, cs.L, cs.c.nCond, gputest::fresh(400) + static_cast<std::uint64_t>(k));
        const LossOptions lo{0.0};
        const double den = denominator(b, cs.warmup, lo);
        const auto params = flatten(m);
        std::vector<double> gRef, gCpu;
        doubleGradient(m, b, cs.warmup, den, lo, gRef);
        makeCpuGradientBackend(cs.c, 2)->lossAndGradient(params, b.view(cs.warmup), den, lo, gCpu);
        const double errCpu = relL2(gCpu, gRef);
        auto run = [&](const char* chunk, std::vector<double>& g) {
            if (chunk) setenv("MFX_TRAIN_SCAN_CHUNK", chunk, 1);
            auto gpu = gpuBackend(cs.c);
            unsetenv("MFX_TRAIN_SCAN_CHUNK");
            const double num = gpu->lossAndGradient(params, b.view(cs.warmup), den, lo, g);
            return std::make_pair(num, gpu->lastOutput());
        };
        std::vector<double> gSeq;
        const auto [numSeq, ySeq] = run("0", gSeq);
        const std::string whole = std::to_string(cs.L), longer = std::to_string(cs.L + 5), oneShort = std::to_string(cs.L - 1);
        for (const char* chunk : {static_cast<const char*>(nullptr), "1", "2", "37", "64", oneShort.c_str(), whole.c_str(), longer.c_str()}) {
            std::vector<double> g;
            const auto [num, y] = run(chunk, g);
            const double vsSeq = relL2(g, gSeq), vsRef = relL2(g, gRef), outVsSeq = relL2(y, ySeq);
            std::printf("[errors] scan chunk %s, %s B=%d L=%zu: gradient vs sequential %.3g, vs f64 %.3g (CPU tape %.3g), "
                        "output vs sequential %.3g\n",
                        chunk ? chunk : "auto", cs.c.summary().c_str(), cs.B, cs.L, vsSeq, vsRef, errCpu, outVsSeq);
            INFO(cs.c.summary() << ", scan chunk " << (chunk ? chunk : "auto"));
            if (chunk && std::atol(chunk) >= static_cast<long>(cs.L)) {
                // one chunk: the sequential scan itself, to the bit
                CHECK(g == gSeq);
                CHECK(num == numSeq);
            }
            // one-step chunks take every state from the carry pass: other rounding, so the override
            // took effect (3e-7 and 4e-8 from the sequential scan on the H200, 2026-12-03)
            if (chunk && std::string(chunk) == "1") CHECK(g != gSeq);
            CHECK(vsSeq < 1e-4);
            CHECK(outVsSeq < 1e-4);
            CHECK(std::fabs(num - numSeq) <= 1e-4 * numSeq);
            CHECK(vsRef < std::max(1e-4, 3 * errCpu));
        }
        ++k;
    }
}
