// The rest state (Reference.h): the closed-form state a model settles to under silence; engines that
// start from it (setInitialState) instead of zero; and engineRestState (Engine/RestState.h), the same
// point settled in float32, where the products start.
#include "AllocationCounter.h"
#include "Float32Bounds.h"
#include "TestSignals.h"

#include "Engine/OfflineRenderer.h"
#include "Engine/RealtimeEngine.h"
#include "Engine/RestState.h"
#include "Model/ModelError.h"
#include "Model/RandomModel.h"
#include "Reference/Reference.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace mfx;

namespace {

double stateNorm(const ReferenceState& s) {
    double n = 0;
    for (const auto& l : s.layers) {
        for (double v : l.conv) n += v * v;
        for (double v : l.ssm) n += v * v;
    }
    return std::sqrt(n);
}

double stateDistance(const ReferenceState& a, const ReferenceState& b) {
    double n = 0;
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        for (std::size_t i = 0; i < a.layers[l].conv.size(); ++i) n += std::pow(a.layers[l].conv[i] - b.layers[l].conv[i], 2);
        for (std::size_t i = 0; i < a.layers[l].ssm.size(); ++i) n += std::pow(a.layers[l].ssm[i] - b.layers[l].ssm[i], 2);
    }
    return std::sqrt(n);
}

// (n, nCond): the values held for every sample
std::vector<float> heldCond(const std::vector<float>& knobs, std::size_t n) {
    std::vector<float> c;
    for (std::size_t t = 0; t < n; ++t) c.insert(c.end(), knobs.begin(), knobs.end());
    return c;
}

struct Case {
    Config config;
    std::vector<float> knobs; // (nCond)
};

// Fresh random shapes (test::randomConfig: with and without conditioning) and knob values every run.
std::vector<Case> randomCases(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<Case> cases;
    for (std::uint64_t i = 0; i < 5; ++i) {
        Case k;
        k.config = test::randomConfig(seed + i);
        if (i == 4) { // randomConfig's dConv is 2..4: also a conv without history, with dtRank 2
            k.config.dConv = 1;
            k.config.dtRank = 2;
        }
        for (int j = 0; j < k.config.nCond; ++j) k.knobs.push_back(std::uniform_real_distribution<float>(0.0f, 1.0f)(rng));
        cases.push_back(k);
    }
    return cases;
}

// body(case, model, knobs or nullptr, seed) for each random case, with a fresh seed (printed) and a
// model drawn from it (seed + modelSeedOffset).
template <typename Body>
void forRandomCases(std::uint64_t modelSeedOffset, Body body) {
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    for (const Case& k : randomCases(seed)) {
        INFO(k.config.summary());
        body(k, randomModel(k.config, seed + modelSeedOffset), k.knobs.empty() ? nullptr : k.knobs.data(), seed);
    }
}

} // namespace

TEST_CASE("the rest state is the model's fixed point under silence, and where the zero state settles to", "[rest]") {
    forRandomCases(1, [&](const Case& k, const Model& m, const float* knobs, std::uint64_t seed) {
        const ReferenceState rest = referenceRestState(m, knobs);
        REQUIRE(stateNorm(rest) > 0.0); // biases make it non-zero: the test below is not about zeros

        // From the rest state, silence gives a constant output and leaves the state where it was.
        constexpr std::size_t kSilence = 512;
        const std::vector<float> silence(kSilence, 0.0f), cond = heldCond(k.knobs, kSilence);
        ReferenceState st = rest;
        const auto out = referenceForward(m, silence.data(), knobs ? cond.data() : nullptr, kSilence, st);
        double wiggle = 0;
        for (double v : out) wiggle = std::max(wiggle, std::abs(v - out[0]));
        CHECK(wiggle <= 1e-12 * std::max(1.0, std::abs(out[0])));
        CHECK(stateDistance(st, rest) <= 1e-12 * stateNorm(rest));

        // From zero, a long silence converges to it. (With dt from 0.01 up the slowest decay is about
        // exp(-0.01) per step: 8,192 steps leave e^-80 of the distance, so the bound is loose.)
        InitOptions fast;
        fast.dtMin = 0.01;
        const Model f = randomModel(k.config, seed + 3, fast);
        const ReferenceState fRest = referenceRestState(f, knobs);
        constexpr std::size_t kLong = 1 << 13;
        const std::vector<float> longSilence(kLong, 0.0f), longCond = heldCond(k.knobs, kLong);
        ReferenceState fromZero(f.config);
        const double before = stateDistance(fromZero, fRest);
        referenceForward(f, longSilence.data(), knobs ? longCond.data() : nullptr, kLong, fromZero);
        CHECK(stateDistance(fromZero, fRest) <= 1e-6 * before);
    });
}

TEST_CASE("an engine that starts at rest: constant under silence, reset returns there, float32 bound to the reference, no allocation", "[rest][rt]") {
    forRandomCases(2, [&](const Case& k, const Model& m, const float* knobs, std::uint64_t seed) {
        const State rest = restState(m, knobs);
        RealtimeEngine engine(m, 2);
        if (knobs) engine.setConditioning(knobs);
        engine.setInitialState(rest);
        for (int c = 0; c < 2; ++c) CHECK(stateRelativeError(engine.getState(c), rest) == 0.0);

        // Silence: constant from the first sample (float32 rounding of the rest point only).
        std::vector<float> silence(4096, 0.0f), quiet(4096);
        engine.processChannel(0, silence.data(), quiet.data(), 4096);
        ReferenceState exact = referenceRestState(m, knobs);
        const std::vector<float> one(1, 0.0f), oneCond = heldCond(k.knobs, 1);
        const double level = referenceForward(m, one.data(), knobs ? oneCond.data() : nullptr, 1, exact)[0];
        double wiggle = 0;
        for (float v : quiet) wiggle = std::max(wiggle, std::abs(static_cast<double>(v) - level));
        double silenceBound = 1e-5 * std::max(1.0, std::abs(level));
        if (wiggle > silenceBound) { // as Float32Bounds.h: kFloorFactor times what plain float32 does from the same point
            State st = rest;
            const auto cond4096 = heldCond(k.knobs, silence.size());
            const auto out32 = referenceForwardFloat32(m, silence.data(), knobs ? cond4096.data() : nullptr, silence.size(), st);
            double plain = 0;
            for (double v : out32) plain = std::max(plain, std::abs(v - level));
            silenceBound = std::max(silenceBound, test::kFloorFactor * plain);
            WARN("this model amplifies float32 rounding: plain float32 under silence is " << plain << " from float64");
            CHECK(silenceBound <= test::kRelaxedCeiling * std::max(1.0, std::abs(level)));
        }
        CHECK(wiggle <= silenceBound);

        // A signal from the rest state: within the float32 bounds of the reference from the same state.
        engine.reset();
        const auto in = test::mixedSignal(6000, seed);
        const auto cond = heldCond(k.knobs, in.size());
        std::vector<float> out(in.size());
        engine.processChannel(1, in.data(), out.data(), static_cast<int>(in.size()));
        ReferenceState refState = rest.as<double>();
        const auto ref = referenceForward(m, in.data(), knobs ? cond.data() : nullptr, in.size(), refState);
        const double errOut = test::relativeL2(out, ref);
        const double errState = stateRelativeError(engine.getState(1), refState);
        // Float32Bounds.h: 1e-5, unless this model amplifies float32 rounding beyond it; then
        // kFloorFactor times what the reference's own code in float32 gives from the same state.
        const test::Bounds bounds =
            test::boundsFor(errOut, errState, m, in, knobs ? cond.data() : nullptr, ref, refState, &rest);
        CHECK(errOut <= bounds.out);
        CHECK(errState <= bounds.state);

        // reset() is back at rest, bitwise, without allocating; the same audio then gives the same bits
        // in blocks of 1 and 64 (block-size independence holds from any initial state).
        std::size_t allocations = 0;
        {
            test::ScopedAllocationCount counter;
            engine.reset();
            allocations = counter.count();
        }
        CHECK(allocations == 0);
        CHECK(stateRelativeError(engine.getState(1), rest) == 0.0);
        std::vector<float> again(in.size());
        for (std::size_t i = 0; i < in.size(); ++i)
            engine.processChannel(1, in.data() + i, again.data() + i, 1, knobs ? cond.data() + i * k.knobs.size() : nullptr);
        CHECK(again == out);
        engine.reset();
        for (std::size_t i = 0; i < in.size(); i += 64) {
            const int n = static_cast<int>(std::min<std::size_t>(64, in.size() - i));
            engine.processChannel(1, in.data() + i, again.data() + i, n);
        }
        CHECK(again == out);

        // The offline path started from the same state gives the same bits.
        OfflineRenderer offline(m, 1);
        if (knobs) offline.setConditioning(knobs);
        offline.setState(0, rest);
        std::vector<float> off(in.size());
        offline.process(0, in.data(), off.data(), in.size());
        CHECK(off == out);
    });
}

TEST_CASE("engineRestState: the float32 engine settled at the rest point, within float32 rounding of it", "[rest]") {
    forRandomCases(4, [&](const Case& k, const Model& m, const float* knobs, std::uint64_t seed) {
        const State settled = engineRestState(m, knobs), exact = restState(m, knobs);
        CHECK(stateRelativeError(settled, exact) <= 1e-4); // float32 rounding, amplified by the model
        // it is what an engine started at the rounded point holds after kSettleSamples of silence
        RealtimeEngine engine(m, 1);
        if (knobs) engine.setConditioning(knobs);
        engine.setInitialState(exact);
        std::vector<float> silence(kSettleSamples, 0.0f), sink(silence.size());
        engine.process(silence.data(), sink.data(), kSettleSamples);
        CHECK(stateRelativeError(engine.getState(0), settled) == 0.0);
        // and from there silence stays put (to float32 rounding; often to the bit)
        engine.setInitialState(settled);
        std::vector<float> quiet(1024);
        engine.process(silence.data(), quiet.data(), 1024);
        double wiggle = 0;
        for (float v : quiet) wiggle = std::max(wiggle, std::abs(static_cast<double>(v) - quiet[0]));
        CHECK(wiggle <= 1e-6 * std::max(1.0, std::abs(static_cast<double>(quiet[0]))));
    });
}

TEST_CASE("setInitialState refuses a state of another shape or with non-finite values", "[rest]") {
    Config c;
    const Model m = randomModel(c, 5);
    RealtimeEngine engine(m, 1);
    Config other = c;
    other.nLayers = c.nLayers + 1;
    CHECK_THROWS_AS(engine.setInitialState(State(other)), ModelError);
    State bad = restState(m);
    bad.layers[0].ssm[0] = std::nanf("");
    CHECK_THROWS_AS(engine.setInitialState(bad), ModelError);
    // the engine keeps its previous initial state (zero)
    engine.reset();
    const State now = engine.getState(0);
    for (const auto& l : now.layers) {
        CHECK(std::all_of(l.conv.begin(), l.conv.end(), [](float v) { return v == 0.0f; }));
        CHECK(std::all_of(l.ssm.begin(), l.ssm.end(), [](float v) { return v == 0.0f; }));
    }
}
