// The live callback body against the real-time engine: bit-exact pass-through of the model's output
// for any block size, gains/mix/bypass, meters, recording, model hand-over, no allocation on the audio
// thread and the old engine freed off it.
#include "../Core/AllocationCounter.h" // the core tests' counter: operator new and malloc family
#include "LiveTestUtil.h"

#include <live/LiveOptions.h>
#include <live/LiveProcessor.h>
#include <live/Recorder.h>

#include <catch2/catch.hpp>

using namespace mfx;
using namespace mfx::live;
using namespace mfx::live::test;

namespace {

struct Rig {
    EngineSlot slot;
    StatusBoard status;
    LiveProcessor processor;
    Rig(const Model& model, const ProcessorSettings& s, Recorder* rec = nullptr)
        : slot(s.inputChannels, s.maxBlock), processor(s, slot, status, rec) {
        auto engine = std::make_unique<RealtimeEngine>(model, s.inputChannels);
        engine->warmUp();
        REQUIRE(slot.publish(engine));
        slot.process(nullptr, nullptr, s.inputChannels, 0); // current before the first block, as the app does
    }
    // Runs mono `x` in blocks of `block` from..to into `out` (outputChannels, x.size()).
    void run(const std::vector<float>& x, int block, std::size_t from, std::size_t to, std::vector<std::vector<float>>& out) {
        const int outCh = processor.settings().outputChannels;
        if (out.empty()) out.assign(static_cast<std::size_t>(outCh), std::vector<float>(x.size(), 0.0f));
        to = std::min(to, x.size());
        for (std::size_t done = from; done < to;) {
            const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(block), to - done));
            const float* in[1] = {x.data() + done};
            float* o[kMaxChannels];
            for (int c = 0; c < outCh; ++c) o[c] = out[static_cast<std::size_t>(c)].data() + done;
            processor.process(in, o, n, false);
            done += static_cast<std::size_t>(n);
        }
    }
    std::vector<std::vector<float>> run(const std::vector<float>& x, int block) {
        std::vector<std::vector<float>> out;
        run(x, block, 0, x.size(), out);
        return out;
    }
};

std::vector<float> engineOutput(const Model& model, const std::vector<float>& x) {
    RealtimeEngine e(model, 1);
    std::vector<float> y(x.size());
    e.process(x.data(), y.data(), static_cast<int>(x.size()));
    return y;
}

bool bitEqual(const std::vector<float>& a, const std::vector<float>& b, std::size_t from = 0, std::size_t to = SIZE_MAX) {
    to = std::min({to, a.size(), b.size()});
    for (std::size_t i = from; i < to; ++i)
        if (!(a[i] == b[i])) return false;
    return true;
}

} // namespace

TEST_CASE("processor at mix 1 and 0 dB is the engine output bit for bit from mono to stereo at any block size", "[live][processor]") {
    const Model model = testModel(11);
    const std::vector<float> x = pluckedSignal(48000, 48000.0);
    const std::vector<float> ref = engineOutput(model, x);
    for (int block : {32, 64, 100, 128, 1000}) {
        INFO("block " << block);
        ProcessorSettings s;
        s.maxBlock = 256; // 1000-frame callbacks are processed in pieces
        Rig rig(model, s);
        const auto out = rig.run(x, block);
        CHECK(bitEqual(out[0], ref));
        CHECK(bitEqual(out[1], ref));
        const StatusSnapshot snap = rig.status.take();
        CHECK(snap.callbacks == (x.size() + static_cast<std::size_t>(block) - 1) / static_cast<std::size_t>(block));
        CHECK(snap.frames == x.size());
        CHECK(snap.xruns == 0);
        CHECK(rig.processor.loadHistogram().count() == snap.callbacks);
    }
}

TEST_CASE("processor input gain and mix and output gain and meters", "[live][processor]") {
    const Model model = testModel(12);
    const std::vector<float> x = pluckedSignal(9600, 48000.0);
    ProcessorSettings s;
    s.outputChannels = 1;
    s.inputGain = 0.5f;
    s.outputGain = 2.0f;
    s.mix = 0.25f;
    Rig rig(model, s);
    const auto out = rig.run(x, 64);
    std::vector<float> gained(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) gained[i] = x[i] * 0.5f;
    const std::vector<float> wet = engineOutput(model, gained);
    float inPeak = 0.0f, outPeak = 0.0f, worst = 0.0f;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const float expect = 2.0f * (0.25f * wet[i] + 0.75f * x[i]); // the dry signal is the untouched input
        worst = std::max(worst, std::fabs(out[0][i] - expect));
        inPeak = std::max(inPeak, std::fabs(gained[i]));
        outPeak = std::max(outPeak, std::fabs(expect));
    }
    CHECK(worst <= 1e-6f);
    const StatusSnapshot snap = rig.status.take();
    CHECK(snap.inputPeak == inPeak);
    CHECK(snap.outputPeak == Approx(outPeak).margin(1e-6));
    CHECK(snap.loadMax > 0.0f);
}

TEST_CASE("processor bypass ramps to the raw input and back while the model keeps running", "[live][processor]") {
    const Model model = testModel(13);
    const std::vector<float> x = pluckedSignal(24000, 48000.0);
    const std::vector<float> ref = engineOutput(model, x);
    ProcessorSettings s;
    s.inputGain = 1.0f;
    Rig rig(model, s);
    std::vector<std::vector<float>> out;
    rig.run(x, 64, 0, 4800, out);
    rig.processor.setBypass(true);
    CHECK(rig.processor.bypass());
    rig.run(x, 64, 4800, 12000, out);
    rig.processor.setBypass(false);
    rig.run(x, 64, 12000, x.size(), out);
    const std::size_t ramp = LiveProcessor::kBypassRampSamples;
    CHECK(bitEqual(out[0], ref, 0, 4800));
    CHECK(bitEqual(out[0], x, 4800 + ramp, 12000)); // fully bypassed: the input itself
    CHECK(bitEqual(out[1], x, 4800 + ramp, 12000));
    CHECK(bitEqual(out[0], ref, 12000 + ramp));     // back: the model's output, its state never stopped
    // During the ramps the output lies between the two signals.
    bool between = true;
    for (std::size_t i = 4800; i < 4800 + ramp; ++i) {
        const float lo = std::min(ref[i], x[i]) - 1e-6f, hi = std::max(ref[i], x[i]) + 1e-6f;
        between = between && out[0][i] >= lo && out[0][i] <= hi;
    }
    CHECK(between);
}

TEST_CASE("processor counts xruns and the recorder gets exactly the output", "[live][processor]") {
    ScratchDir dir;
    const Model model = testModel(14);
    const std::vector<float> x = pluckedSignal(4800, 48000.0);
    ProcessorSettings s;
    std::vector<std::vector<float>> out;
    {
        Recorder rec((dir / "out.wav").string(), 2, 48000);
        Rig rig(model, s, &rec);
        rig.run(x, 64, 0, x.size(), out);
        const float* in[1] = {x.data()};
        float scratch[2][64];
        float* o[2] = {scratch[0], scratch[1]};
        rig.processor.process(in, o, 0, true); // an empty block that reports an xrun
        CHECK(rig.status.xruns() == 1);
        rec.finish();
    }
    const Sound rec = readSound(dir / "out.wav");
    REQUIRE(rec.frames() == x.size());
    bool same = true;
    for (std::size_t i = 0; i < x.size(); ++i) same = same && rec.samples[2 * i] == out[0][i] && rec.samples[2 * i + 1] == out[1][i];
    CHECK(same);
}

TEST_CASE("processor does no allocation on the audio thread including the model hand-over", "[live][processor][rt]") {
    // Guards the real-time rule: process() (and the EngineSlot swap inside it) must not allocate; the old
    // engine must come back to this thread to be freed (collect() below).
    const Model a = testModel(15), b = testModel(16);
    const std::vector<float> x = pluckedSignal(48000, 48000.0);
    ProcessorSettings s;
    Rig rig(a, s);
    std::vector<std::vector<float>> out(2, std::vector<float>(x.size()));
    rig.run(x, 64, 0, 1024, out); // first touches outside the counted region

    auto next = std::make_unique<RealtimeEngine>(b, 1);
    next->warmUp();
    REQUIRE(rig.slot.publish(next));
    std::size_t allocations = 0;
    {
        mfx::test::ScopedAllocationCount counter;
        rig.run(x, 64, 1024, x.size(), out); // picks up b at 1024, crossfades, retires a
        allocations = counter.count();
    }
    CHECK(allocations == 0);
    CHECK(rig.slot.collect() == 1); // the old engine is freed here, off the audio thread

    // After the crossfade the output is b's, run from zero state from the block of the swap on.
    std::vector<float> tail(x.begin() + 1024, x.end());
    const std::vector<float> refB = engineOutput(b, tail);
    bool same = true;
    for (std::size_t i = EngineSlot::kCrossfadeSamples; i < tail.size(); ++i) same = same && out[0][1024 + i] == refB[i];
    CHECK(same);
    bool finite = true;
    for (float v : out[0]) finite = finite && std::isfinite(v);
    CHECK(finite);
}
