// Short training runs on effects rendered by the test: a tanh drive into a one-pole low-pass, plain
// and with a gain knob (conditioning) at three settings, checked at an unseen setting. Also: the
// trainer is deterministic for a seed whatever the thread count, and a checkpoint resumes exactly.
#include "Model/RandomModel.h"
#include "Reference/Reference.h"
#include "Train/Trainer.h"
#include "TrainSignals.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <random>

using namespace mfx;
using namespace mfx::train;
using namespace mfx::traintest;

namespace {

Config smallConfig(int nCond) {
    Config c;
    c.dModel = 8; c.nLayers = 1; c.dState = 8; c.dConv = 4; c.expand = 2; c.dtRank = 1; c.nCond = nCond;
    return c;
}

TrainOptions quickOptions(long steps) {
    TrainOptions o;
    o.segmentLength = 1024;
    o.warmup = 256;
    o.batchSize = 4;
    o.threads = 2;
    o.totalSteps = steps;
    o.adam.lr = 1e-2;
    o.adam.lrFinal = 5e-4;
    o.adam.warmupSteps = 20;
    o.loss.preEmphasis = 0.0;
    return o;
}

} // namespace

TEST_CASE("Training on a tanh drive into a one-pole low-pass reaches ESR 0.02", "[train]") {
    const auto [tr, va] = syntheticRecordings();
    const long steps = 400;
    Trainer trainer(randomModel(smallConfig(0), 7), {tr}, {va}, quickOptions(steps));
    const double before = trainer.validate();
    StepResult r;
    for (long s = 0; s < steps; ++s) {
        r = trainer.step();
        if ((s + 1) % 100 == 0) std::printf("[train] synthetic step %ld loss %.5f val ESR %.5f\n", s + 1, r.loss, trainer.validate());
    }
    const double after = trainer.validate();
    INFO("validation ESR before " << before << ", after " << after);
    CHECK(after < 0.02);
    // The validation ESR is the float64 reference's within float tolerance.
    ReferenceState st(trainer.model().config);
    const auto ref = referenceForward(trainer.model(), va.input.data(), nullptr, va.input.size(), st);
    CHECK(std::fabs(esr(ref.data(), va.target.data(), va.target.size()) - after) < 1e-4 + 1e-3 * after);
    // ... and what the offline CPU path (the engines) measures through a render backend.
    auto cpu = makeCpuBackend();
    const double viaBackend = validationEsr(trainer.model(), {va}, *cpu);
    CHECK(std::fabs(viaBackend - after) < 1e-5 + 1e-4 * after);
    trainer.setValidationBackend(makeCpuBackend());
    CHECK(trainer.validate() == viaBackend);
}

TEST_CASE("Conditioned training: a gain knob at three settings generalises to an unseen setting", "[train]") {
    std::vector<Recording> train;
    const double gains[] = {0.0, 0.5, 1.0}; // knob value -> drive 1 + 7 * knob
    for (int i = 0; i < 3; ++i) {
        Recording r{pluckSignal(64000, 10 + static_cast<std::uint64_t>(i)), {}, {static_cast<float>(gains[i])}, "gain"};
        r.target = driveLowpass(r.input, 1.0 + 7.0 * gains[i]);
        train.push_back(std::move(r));
    }
    Recording unseen{pluckSignal(48000, 20), {}, {0.25f}, "gain=0.25"};
    unseen.target = driveLowpass(unseen.input, 1.0 + 7.0 * 0.25);
    const long steps = 500;
    Trainer trainer(randomModel(smallConfig(1), 8), train, {unseen}, quickOptions(steps));
    for (long s = 0; s < steps; ++s) trainer.step();
    const double e = trainer.validate();
    std::printf("[train] conditioned: ESR at the unseen setting gain=0.25: %.5f\n", e);
    CHECK(e < 0.03);
}

TEST_CASE("Training is deterministic for a seed, independent of threads, and resumes exactly", "[train]") {
    Recording tr{pluckSignal(20000, 3), {}, {}, "train"};
    tr.target = driveLowpass(tr.input, 3.0);
    auto run = [&](int threads, long steps) {
        auto o = quickOptions(20);
        o.threads = threads;
        o.seed = 42;
        Trainer t(randomModel(smallConfig(0), 9), {tr}, {}, o);
        for (long s = 0; s < steps; ++s) t.step();
        return t;
    };
    const Trainer a = run(1, 10), b = run(3, 10);
    CHECK(flatten(a.model()) == flatten(b.model()));
    // Checkpoint after 6 steps, restore into a fresh trainer, run 4 more: identical to 10 straight.
    Trainer c = run(2, 6);
    auto o = quickOptions(20);
    o.seed = 42;
    Trainer d(randomModel(smallConfig(0), 123), {tr}, {}, o);
    d.restore(c.checkpoint());
    for (int s = 0; s < 4; ++s) d.step();
    CHECK(flatten(d.model()) == flatten(a.model()));
    // A different seed trains differently.
    auto o2 = quickOptions(20);
    o2.seed = 43;
    Trainer e(randomModel(smallConfig(0), 9), {tr}, {}, o2);
    for (int s = 0; s < 10; ++s) e.step();
    CHECK(flatten(e.model()) != flatten(a.model()));
    // A corrupt checkpoint is refused with a message.
    auto bytes = c.checkpoint();
    bytes.resize(bytes.size() / 2);
    CHECK_THROWS_WITH(d.restore(bytes), Catch::Contains("truncated"));
}
