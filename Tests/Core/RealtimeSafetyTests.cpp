// The real-time contract: no allocation while processing, lock-free model swaps, long-run stability.
#include "AllocationCounter.h"
#include "TestSignals.h"

#include "Engine/EngineSlot.h"
#include "Engine/RealtimeEngine.h"
#include "Model/RandomModel.h"
#include "Reference/Reference.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>

using namespace mfx;

namespace {
double threadSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
} // namespace

TEST_CASE("the allocation counter sees allocations (so a zero below means something)", "[rt][alloc]") {
    static int* volatile p; // volatile: the compiler may not elide the allocations
    static void* volatile q;
    test::ScopedAllocationCount counter;
    p = new int(3);
    q = std::malloc(16);
    std::vector<float> v(100);
    const std::size_t seen = counter.count();
    delete p;
    std::free(q);
    CHECK(seen == 3);
    CHECK(counter.count() == 5); // frees count too: the audio thread must not free either
}

TEST_CASE("processing never allocates, at any block size, with conditioning, reset to a rest state and warm-up", "[rt][alloc]") {
    Config c;
    c.nCond = 2;
    const Model model = randomModel(c, 11);
    RealtimeEngine engine(model, 2);
    const auto in = test::mixedSignal(20000, 3);
    std::vector<float> out(in.size()), cond(in.size() * 2, 0.5f);
    const float knobs[2] = {0.2f, 0.8f};
    engine.setInitialState(restState(model, knobs)); // reset() and warmUp() then copy it in
    std::size_t allocations = 0;
    {
        test::ScopedAllocationCount counter;
        engine.warmUp();
        engine.setConditioning(knobs);
        for (int block : {1, 7, 64, 512, 4096}) {
            engine.process(in.data(), out.data(), block);
            engine.processChannel(1, in.data(), out.data(), block, cond.data());
        }
        const float* ins[2] = {in.data(), in.data()};
        float* outs[2] = {out.data(), out.data()};
        engine.process(ins, outs, 3000);
        engine.reset();
        allocations = counter.count();
    }
    CHECK(allocations == 0);
}

TEST_CASE("EngineSlot: 1,000 model swaps while audio runs, no allocation on the audio thread", "[rt][slot]") {
    Config small;
    small.dModel = 8;
    small.nLayers = 1;
    small.dState = 4;
    std::vector<Model> models;
    for (int i = 0; i < 4; ++i) models.push_back(randomModel(small, 100 + static_cast<std::uint64_t>(i), {0.001, 0.1, 1.0, 0.5}));

    EngineSlot slot(2, 256);
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> audioAllocations{0}, nonFinite{0}, blocks{0};
    std::thread audio([&] {
        const auto in = test::mixedSignal(256, 5);
        std::vector<float> l(256), r(256);
        const float* ins[2] = {in.data(), in.data()};
        float* outs[2] = {l.data(), r.data()};
        test::ScopedAllocationCount counter;
        std::size_t k = 0;
        while (!stop.load()) {
            const int n = 1 + static_cast<int>((k++ * 37) % 256);
            slot.process(ins, outs, 2, n);
            for (int i = 0; i < n; ++i)
                if (!std::isfinite(l[static_cast<std::size_t>(i)]) || !std::isfinite(r[static_cast<std::size_t>(i)])) ++nonFinite;
            ++blocks;
        }
        audioAllocations = counter.count();
    });
    int published = 0;
    for (int i = 0; published < 1000; ++i) {
        auto e = std::make_unique<RealtimeEngine>(models[static_cast<std::size_t>(i) % models.size()], 2);
        e->warmUp(64);
        while (!slot.publish(e)) std::this_thread::yield();
        ++published;
        slot.collect();
    }
    while (slot.swapPending()) std::this_thread::yield();
    const std::size_t blocksAtEnd = blocks.load();
    while (blocks.load() < blocksAtEnd + 20) std::this_thread::yield(); // let the last fade finish
    stop = true;
    audio.join();
    slot.collect();
    CHECK(published == 1000);
    CHECK(audioAllocations.load() == 0);
    CHECK(nonFinite.load() == 0);
    CHECK(slot.current() != nullptr);
}

TEST_CASE("30 minutes through a trained-like model stays finite, and silence after loud input is not slower",
          "[rt][stability][slow]") {
    Config c; // the reference size
    const Model model = randomModel(c, 77, {0.001, 0.1, 2.0, 0.3}); // strong weights: trained-like saturation
    RealtimeEngine engine(model, 1);
    const std::size_t minute = 48000 * 60, block = 4096;
    std::vector<float> in(block), out(block);
    double loudSeconds = 0, silentSeconds = 0;
    std::size_t loudSamples = 0, silentSamples = 0;
    bool finite = true;
    for (std::size_t done = 0, k = 0; done < 30 * minute; done += block, ++k) {
        const bool silent = (done / (48000 * 20)) % 2 == 1; // 20 s loud, 20 s silent, ...
        if (silent) std::fill(in.begin(), in.end(), 0.0f);
        else in = test::mixedSignal(block, k);
        const double t0 = threadSeconds();
        engine.process(in.data(), out.data(), static_cast<int>(block));
        const double dt = threadSeconds() - t0;
        (silent ? silentSeconds : loudSeconds) += dt;
        (silent ? silentSamples : loudSamples) += block;
        for (float v : out) finite = finite && std::isfinite(v);
    }
    CHECK(finite);
    CHECK(engine.getState(0).allFinite());
    const double loudNs = 1e9 * loudSeconds / static_cast<double>(loudSamples);
    const double silentNs = 1e9 * silentSeconds / static_cast<double>(silentSamples);
    INFO("loud " << loudNs << " ns/sample, silence after loud " << silentNs << " ns/sample");
    CHECK(silentNs < 1.5 * loudNs); // denormals would make decaying states several times slower
}
