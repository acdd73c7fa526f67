// The CPU trainer's fast SIMD tape (FastTape.h) against the float64 tape (Tape.h, itself checked
// against finite differences of the float64 reference in TrainGradientTest.cpp): outputs and every
// element of every tensor's gradient, on fresh random models of many shapes and on segment lengths
// around the checkpoint interval (1, kCheckpoint - 1, kCheckpoint, kCheckpoint + 1, several chunks).
#include "Model/RandomModel.h"
#include "TestSignals.h"
#include "Train/FastTape.h"
#include "Train/Loss.h"
#include "Train/Tape.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace mfx;
using namespace mfx::train;

namespace {

struct Result {
    std::vector<double> out, grad;
    std::vector<double> gy; // d(loss)/d(out) the backward pass was given
};

// Forward, a squared-error gradient from `target`, backward: with the float64 tape; then the fast tape
// with the same d(loss)/d(out) (so its gradients are compared for the same upstream gradient, not
// through the float difference of out - target, which is ill-conditioned where out ~ target).
Result runDouble(const Model& m, const std::vector<float>& in, const std::vector<float>& cond, const std::vector<float>& target) {
    const std::size_t L = in.size();
    PreparedParams<double> pp(m.config);
    pp.set(flatten(m));
    SegmentPass<double> pass(m.config);
    Result r;
    r.out.resize(L);
    pass.forward(pp, in.data(), m.config.nCond ? cond.data() : nullptr, L, r.out.data());
    r.gy.resize(L);
    for (std::size_t t = 0; t < L; ++t) r.gy[t] = 2.0 * (r.out[t] - target[t]) / static_cast<double>(L);
    r.grad.assign(pp.layout.total, 0.0);
    pass.backward(pp, r.gy.data(), r.grad.data());
    return r;
}

Result runFast(const Model& m, const std::vector<float>& in, const std::vector<float>& cond, const std::vector<double>& gyRef,
               FastSegmentPass& pass) {
    const std::size_t L = in.size();
    FastParams fp(m.config);
    fp.set(flatten(m));
    std::vector<float> out(L), gy(L), grad(fp.layout.total, 0.0f);
    pass.forward(fp, in.data(), m.config.nCond ? cond.data() : nullptr, L, out.data());
    for (std::size_t t = 0; t < L; ++t) gy[t] = static_cast<float>(gyRef[t]);
    pass.backward(fp, gy.data(), grad.data());
    return Result{std::vector<double>(out.begin(), out.end()), std::vector<double>(grad.begin(), grad.end()), gyRef};
}

// Relative L2 distance of a and b over [b0, e0), relative to b's RMS or `rmsFloor`, whichever is
// larger (a single output sample can be near 0 by cancellation, where float rounding is large
// relative to it).
double relL2(const std::vector<double>& a, const std::vector<double>& b, std::size_t b0, std::size_t e0, double rmsFloor = 0) {
    double num = 0, den = 0;
    for (std::size_t i = b0; i < e0; ++i) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    den = std::max(den, rmsFloor * rmsFloor * static_cast<double>(e0 - b0));
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Compares the fast tape with the float64 tape for model m on segments of each length in `lengths`
// (one FastSegmentPass reused across them, as the trainer does). Tolerances: outputs 5e-5 relative
// L2 with an RMS floor of 0.01 (seen: 1e-8 to 7e-6 typically, as the portable float tape; 1.4e-5
// once, on a 31-sample segment of the reference size); each tensor's gradient 1e-3 relative L2 and
// every element within 1e-3 of the tensor's largest gradient, the bound TrainGradientTest puts on
// the portable float tape (seen: 1e-7 to 1e-5 typically; 1.04e-4 for dt_proj on a 1-sample segment,
// where sum_n C_n B_n cancels).
void compare(const Model& m, const std::vector<std::size_t>& lengths, std::uint64_t seed) {
    FastSegmentPass fast(m.config);
    const ParamLayout layout(m.config);
    for (std::size_t L : lengths) {
        INFO("segment length " << L << ", " << m.config.summary() << ", seed " << seed);
        auto in = test::mixedSignal(L + 977, seed + L);
        in.erase(in.begin(), in.begin() + 977); // start mid-signal: every kind of material at short lengths
        std::vector<float> cond(L * static_cast<std::size_t>(m.config.nCond)), target(L);
        std::mt19937_64 rng(seed ^ L);
        std::normal_distribution<double> g(0.0, 0.3);
        for (auto& v : cond) v = static_cast<float>(0.5 + g(rng));
        for (std::size_t t = 0; t < L; ++t) target[t] = static_cast<float>(std::tanh(2.0 * in[t]) + 0.1 * g(rng));
        const Result ref = runDouble(m, in, cond, target);
        const Result got = runFast(m, in, cond, ref.gy, fast);
        const double eOut = relL2(got.out, ref.out, 0, L, 0.01);
        INFO("output relative L2 " << eOut);
        CHECK(eOut <= 5e-5);
        double worstRel = 0, worstElem = 0;
        std::string worstName;
        for (const auto& slot : layout.slots) {
            double maxAbs = 0;
            for (std::size_t i = 0; i < slot.size; ++i) maxAbs = std::max(maxAbs, std::fabs(ref.grad[slot.offset + i]));
            const double rel = relL2(got.grad, ref.grad, slot.offset, slot.offset + slot.size);
            double elem = 0;
            for (std::size_t i = 0; i < slot.size; ++i)
                elem = std::max(elem, std::fabs(got.grad[slot.offset + i] - ref.grad[slot.offset + i]) / (maxAbs + 1e-30));
            if (maxAbs < 1e-12) continue; // no gradient reaches this tensor here (e.g. a silent input)
            if (rel > worstRel) { worstRel = rel; worstName = slot.name; }
            worstElem = std::max(worstElem, elem);
            INFO(slot.name << ": relative L2 " << rel << ", worst element / max " << elem);
            CHECK(rel <= 1e-3);
            CHECK(elem <= 1e-3);
        }
        UNSCOPED_INFO("worst gradient relative L2 " << worstRel << " (" << worstName << "), worst element " << worstElem);
    }
}

} // namespace

TEST_CASE("Fast training tape equals the float64 tape: outputs and every gradient", "[train]") {
    const std::uint64_t base = std::random_device{}(); // fresh models every run; the seed is printed on failure
    const std::vector<std::size_t> lengths = {1, 2, kCheckpoint - 1, kCheckpoint, kCheckpoint + 1, 3 * kCheckpoint + 5, 700};
    SECTION("the reference size") {
        Config c; // dModel 16, nLayers 2, dState 16, dConv 4, expand 2, dtRank 1
        compare(randomModel(c, base), lengths, base);
    }
    SECTION("random shapes (dState 1..64, dConv 2..4, nLayers 1..4, nCond 0..2)") {
        for (int k = 0; k < 6; ++k) {
            const Config c = test::randomConfig(base + static_cast<std::uint64_t>(k));
            InitOptions io;
            io.scale = 1.5; // trained-like: strong nonlinear behaviour
            io.skip = 0.3;
            compare(randomModel(c, base + 100 + static_cast<std::uint64_t>(k), io), {1, kCheckpoint + 3, 257}, base + static_cast<std::uint64_t>(k));
        }
    }
    SECTION("dConv 1, dState 1, odd widths") {
        Config c;
        c.dModel = 5; c.nLayers = 3; c.dState = 1; c.dConv = 1; c.expand = 1; c.dtRank = 2; c.nCond = 1;
        compare(randomModel(c, base + 7), {1, 40, 129}, base + 7);
    }
}
