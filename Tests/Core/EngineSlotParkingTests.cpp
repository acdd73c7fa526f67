// EngineSlot when its retire slots are full (collect() has not run): the audio thread parks the engine
// it would retire, picks up no new engine until the parked ones are retired, and allocates and frees
// nothing meanwhile, with setConditioning() and reset() called between blocks during the swaps.
// publish() itself collects, so the retire slots are filled here through EngineSlotProbe (a friend).
#include "AllocationCounter.h"
#include "TestSignals.h"

#include "Engine/EngineSlot.h"
#include "Engine/RealtimeEngine.h"
#include "Model/RandomModel.h"

#include <catch2/catch.hpp>

using namespace mfx;

namespace mfx::test {

struct EngineSlotProbe {
    // Off the audio thread: puts a throwaway engine into every free retire slot (collect() frees them).
    static int fillRetireSlots(EngineSlot& slot, const Model& model) {
        int filled = 0;
        for (auto& s : slot.retired_) {
            if (s.load() != nullptr) continue;
            s.store(new RealtimeEngine(model, 1));
            ++filled;
        }
        return filled;
    }
    static int parked(const EngineSlot& slot) { return (slot.parked_[0] != nullptr) + (slot.parked_[1] != nullptr); }
    static bool fading(const EngineSlot& slot) { return slot.fadingOut_ != nullptr; }
};

} // namespace mfx::test

namespace {

using mfx::test::EngineSlotProbe;

constexpr int kChannels = 2, kMaxBlock = 256;

Model condModel(std::uint64_t seed) {
    Config c;
    c.dModel = 8; c.nLayers = 1; c.dState = 4; c.dConv = 4; c.expand = 2; c.dtRank = 1; c.nCond = 2;
    return randomModel(c, seed, {0.001, 0.1, 1.0, 0.5});
}

// The audio side of the slot: every call is counted (allocations and frees on this thread).
struct AudioSide {
    EngineSlot& slot;
    std::vector<float> left = mfx::test::mixedSignal(12000, 21), right = mfx::test::mixedSignal(12000, 22);
    std::vector<float> outL = std::vector<float>(12000), outR = std::vector<float>(12000);
    std::size_t allocations = 0;
    std::size_t calls = 0;

    // One callback of n frames (n may exceed the slot's maxBlock) from the start of the signal.
    void block(int n) {
        const float* in[kChannels] = {left.data(), right.data()};
        float* out[kChannels] = {outL.data(), outR.data()};
        mfx::test::ScopedAllocationCount counter;
        slot.process(in, out, kChannels, n);
        allocations += counter.count();
        ++calls;
    }
    void conditioning(float a, float b) {
        const float v[2] = {a, b};
        mfx::test::ScopedAllocationCount counter;
        slot.setConditioning(v, 2);
        allocations += counter.count();
    }
    void reset() {
        mfx::test::ScopedAllocationCount counter;
        slot.reset();
        allocations += counter.count();
    }
    // Callbacks of uneven sizes (several larger than maxBlock) totalling at least `frames`, with the
    // conditioning changed and the state reset between them, as a host may do during a swap.
    void run(int frames) {
        static const int sizes[] = {700, 37, 256, 1000, 1, 513};
        for (int done = 0, k = 0; done < frames; ++k) {
            const int n = sizes[k % 6];
            conditioning(0.1f * static_cast<float>(k % 5), -0.3f);
            if (k % 3 == 2) reset();
            block(n);
            done += n;
        }
    }
    // Whose output is it: after reset() with known conditioning, one 3000-frame callback must equal a
    // fresh engine of `model` (block size does not change an engine's output).
    bool outputIs(const Model& model) {
        conditioning(0.5f, -0.25f);
        reset();
        block(3000);
        RealtimeEngine ref(model, kChannels);
        const float knobs[2] = {0.5f, -0.25f};
        ref.setConditioning(knobs);
        std::vector<float> l(3000), r(3000);
        const float* in[kChannels] = {left.data(), right.data()};
        float* out[kChannels] = {l.data(), r.data()};
        ref.process(in, out, 3000);
        return std::equal(l.begin(), l.end(), outL.begin()) && std::equal(r.begin(), r.end(), outR.begin());
    }
};

// Off the audio thread: publishes a fresh engine of `model`, returns it (owned by the slot now).
const RealtimeEngine* publish(EngineSlot& slot, const Model& model) {
    auto e = std::make_unique<RealtimeEngine>(model, kChannels);
    e->warmUp(256);
    const RealtimeEngine* p = e.get();
    REQUIRE(slot.publish(e));
    return p;
}

} // namespace

TEST_CASE("EngineSlot: full retire slots park engines and hold back the next swap, with no allocation or free on the audio side",
          "[rt][slot]") {
    std::vector<Model> m;
    for (std::uint64_t i = 0; i < 6; ++i) m.push_back(condModel(200 + i)); // A..F
    const Model& filler = m[0];
    EngineSlot slot(kChannels, kMaxBlock);
    AudioSide audio{slot};

    const RealtimeEngine* a = publish(slot, m[0]);
    audio.run(2000);
    REQUIRE(slot.current() == a);
    CHECK(audio.outputIs(m[0]));

    // A -> B with every retire slot taken: the fade completes, A cannot be retired and is parked.
    const RealtimeEngine* b = publish(slot, m[1]);
    CHECK(EngineSlotProbe::fillRetireSlots(slot, filler) == 8);
    audio.run(3000);
    CHECK(slot.current() == b);
    CHECK_FALSE(EngineSlotProbe::fading(slot));
    CHECK(EngineSlotProbe::parked(slot) == 1);
    CHECK(audio.outputIs(m[1]));

    // C is published (publish() collects the fillers), the slots are filled again before the audio side
    // runs: A stays parked and C waits; the output stays B's.
    const RealtimeEngine* c = publish(slot, m[2]);
    CHECK(EngineSlotProbe::fillRetireSlots(slot, filler) == 8);
    audio.run(3000);
    CHECK(slot.swapPending());
    CHECK(slot.current() == b);
    CHECK(EngineSlotProbe::parked(slot) == 1);
    CHECK(audio.outputIs(m[1]));

    // collect() frees the fillers: the next block retires A and picks up C; B is retired after the fade.
    CHECK(slot.collect() == 8);
    audio.run(3000);
    CHECK_FALSE(slot.swapPending());
    CHECK(slot.current() == c);
    CHECK(EngineSlotProbe::parked(slot) == 0);
    CHECK(audio.outputIs(m[2]));
    CHECK(slot.collect() == 2); // A and B, freed here and not on the audio side

    // A fade cut short with full slots: C -> D fading, E arrives; C (cut short) and then D (after the
    // D -> E fade) are both parked, and F waits until they are retired.
    const RealtimeEngine* d = publish(slot, m[3]);
    audio.block(300); // picks up D, fades for 300 of 1024 samples
    REQUIRE(slot.current() == d);
    REQUIRE(EngineSlotProbe::fading(slot));
    const RealtimeEngine* e = publish(slot, m[4]);
    CHECK(EngineSlotProbe::fillRetireSlots(slot, filler) == 8);
    audio.run(3000);
    CHECK(slot.current() == e);
    CHECK(EngineSlotProbe::parked(slot) == 2);
    CHECK(audio.outputIs(m[4]));
    const RealtimeEngine* f = publish(slot, m[5]);
    CHECK(EngineSlotProbe::fillRetireSlots(slot, filler) == 8);
    audio.run(3000);
    CHECK(slot.swapPending());
    CHECK(slot.current() == e);
    CHECK(EngineSlotProbe::parked(slot) == 2);
    CHECK(audio.outputIs(m[4]));
    CHECK(slot.collect() == 8);
    audio.run(3000);
    CHECK_FALSE(slot.swapPending());
    CHECK(slot.current() == f);
    CHECK(EngineSlotProbe::parked(slot) == 0);
    CHECK(audio.outputIs(m[5]));
    CHECK(slot.collect() == 3); // C, D and E

    INFO(audio.calls << " audio-side process() calls");
    CHECK(audio.allocations == 0);
}
