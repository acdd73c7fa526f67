// The whole live callback as LiveSession wires it when the model runs at another rate: LiveProcessor ->
// RateAdapter -> EngineSlot, stereo, with both recorders, callbacks larger than the processor's
// maxBlock, the bypass ramp toggled and a model hand-over while blocks run. Nothing in process() may
// allocate or free; the swap must really happen (the output becomes the new model's, the old engine is
// freed by collect() off the audio thread).
#include "../Core/AllocationCounter.h"
#include "LiveTestUtil.h"

#include <live/LiveOptions.h>
#include <live/LiveProcessor.h>
#include <live/RateAdapter.h>
#include <live/Recorder.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace mfx;
using namespace mfx::live;
using namespace mfx::live::test;

namespace {

constexpr double kStreamRate = 44100.0, kModelRate = 48000.0;
constexpr int kMaxBlock = 256;
const int kCallbacks[] = {1000, 333, 64, 512, 1, 700, 257}; // frames; four of them above kMaxBlock

ProcessorSettings stereoSettings() {
    ProcessorSettings s;
    s.inputChannels = 2;
    s.outputChannels = 2;
    s.maxBlock = kMaxBlock;
    s.sampleRate = kStreamRate;
    return s;
}

std::unique_ptr<RealtimeEngine> warmEngine(const Model& model) {
    auto e = std::make_unique<RealtimeEngine>(model, 2);
    e->warmUp();
    return e;
}

// Built as LiveSession builds it: slot and adapter sized for maxBlock, recorders at the stream rate.
struct Chain {
    EngineSlot slot{2, kMaxBlock};
    RateAdapter adapter{kStreamRate, kModelRate, 2, kMaxBlock, ResamplerQuality::Fast};
    StatusBoard status;
    std::unique_ptr<Recorder> recorder, inputRecorder;
    std::unique_ptr<LiveProcessor> processor;

    Chain(const Model& first, const ScratchDir* dir) {
        if (dir) {
            recorder = std::make_unique<Recorder>((*dir / "out.wav").string(), 2, static_cast<int>(kStreamRate));
            inputRecorder = std::make_unique<Recorder>((*dir / "in.wav").string(), 2, static_cast<int>(kStreamRate));
        }
        processor = std::make_unique<LiveProcessor>(stereoSettings(), slot, status, recorder.get(), inputRecorder.get(), &adapter);
        auto e = warmEngine(first);
        REQUIRE(slot.publish(e));
        slot.process(nullptr, nullptr, 2, 0); // current before the first block, as the app does
    }
};

} // namespace

// (No ':' in this name: Catch2 v2 indents a wrapped test name at its ': ', and past the line width that loops.)
TEST_CASE("live chain with a rate adapter in stereo, callbacks above maxBlock, bypass and a model swap allocates and frees nothing",
          "[live][processor][resample][rt]") {
    ScratchDir dir;
    const Model a = testModel(71, kModelRate), b = testModel(72, kModelRate);
    const std::size_t frames = 2 * static_cast<std::size_t>(kStreamRate);
    const std::vector<float> x[2] = {pluckedSignal(frames, kStreamRate, 1), pluckedSignal(frames, kStreamRate, 2)};
    const std::size_t swapAt = 20000, collectAt = 26000, bypassOnAt = 40000, bypassOffAt = 60000;

    // Runs the chain over x; publishes b at the first callback starting at or after swapAt (when
    // `swap`), collects at collectAt, toggles bypass. Returns the output; counts allocations in process().
    struct Result {
        std::vector<float> y[2];
        std::size_t allocations = 0, swapFrame = 0, bypassOnFrame = 0, bypassOffFrame = 0;
        int freedAtCollect = -1;
        const RealtimeEngine* published = nullptr;
    };
    auto runChain = [&](Chain& chain, bool swap) {
        Result r;
        r.y[0].assign(frames, 0.0f);
        r.y[1].assign(frames, 0.0f);
        bool swapped = false, collected = false, bypassOn = false, bypassOff = false;
        for (std::size_t done = 0, k = 0; done < frames; ++k) {
            // Between callbacks, off the audio side: what the UI thread does.
            if (swap && !swapped && done >= swapAt) {
                auto e = warmEngine(b);
                r.published = e.get();
                REQUIRE(chain.slot.publish(e));
                r.swapFrame = done;
                swapped = true;
            }
            if (swap && swapped && !collected && done >= collectAt) {
                r.freedAtCollect = chain.slot.collect();
                collected = true;
            }
            if (!bypassOn && done >= bypassOnAt) {
                chain.processor->setBypass(true);
                r.bypassOnFrame = done;
                bypassOn = true;
            }
            if (!bypassOff && done >= bypassOffAt) {
                chain.processor->setBypass(false);
                r.bypassOffFrame = done;
                bypassOff = true;
            }
            const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(kCallbacks[k % 7]), frames - done));
            const float* in[2] = {x[0].data() + done, x[1].data() + done};
            float* out[2] = {r.y[0].data() + done, r.y[1].data() + done};
            {
                mfx::test::ScopedAllocationCount counter;
                chain.processor->process(in, out, n, false);
                r.allocations += counter.count();
            }
            done += static_cast<std::size_t>(n);
        }
        return r;
    };

    Chain chain(a, &dir);
    const Result r = runChain(chain, true);
    Chain plain(a, nullptr); // the same without the swap
    const Result ref = runChain(plain, false);

    CHECK(r.allocations == 0);
    CHECK(ref.allocations == 0);
    CHECK(chain.adapter.underruns() == 0);
    CHECK(chain.status.take().frames == frames);

    // The swap happened: b is current, a was freed off the audio thread, and the output, identical to the
    // no-swap run before the swap, is another model's after it.
    CHECK(chain.slot.current() == r.published);
    CHECK(r.freedAtCollect == 1);
    const auto p = static_cast<std::size_t>(chain.adapter.latencyFrames());
    REQUIRE(r.swapFrame + p + 2000 < r.bypassOnFrame);
    std::size_t differing = 0;
    const std::size_t after = r.swapFrame + p + 2000; // past the crossfade
    for (int c = 0; c < 2; ++c) {
        const auto& y = r.y[c];
        const auto& z = ref.y[c];
        CHECK(std::equal(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(r.swapFrame), z.begin()));
        for (std::size_t i = after; i < r.bypassOnFrame; ++i) differing += y[i] != z[i];
    }
    CHECK(differing > (r.bypassOnFrame - after)); // most of the samples of both channels

    // Fully bypassed: the input itself, delayed by the adapter's latency like the dry signal.
    bool bypassed = true;
    for (int c = 0; c < 2; ++c)
        for (std::size_t i = r.bypassOnFrame + LiveProcessor::kBypassRampSamples; i < r.bypassOffFrame; ++i)
            bypassed = bypassed && r.y[c][i] == x[c][i - p];
    CHECK(bypassed);
    bool finite = true;
    for (int c = 0; c < 2; ++c)
        for (float v : r.y[c]) finite = finite && std::isfinite(v);
    CHECK(finite);

    // Both recorders got every frame, bit for bit.
    chain.recorder->finish();
    chain.inputRecorder->finish();
    CHECK(chain.recorder->framesDropped() == 0);
    const Sound out = readSound(dir / "out.wav"), in = readSound(dir / "in.wav");
    REQUIRE(out.frames() == frames);
    REQUIRE(in.frames() == frames);
    bool same = true;
    for (std::size_t i = 0; i < frames; ++i)
        for (std::size_t c = 0; c < 2; ++c)
            same = same && out.samples[2 * i + c] == r.y[c][i] && in.samples[2 * i + c] == x[c][i];
    CHECK(same);
}

TEST_CASE("live chain with a rate adapter: swaps published from another thread while audio runs, no allocation or free on the audio thread",
          "[live][processor][resample][rt]") {
    ScratchDir dir;
    const Model models[2] = {testModel(73, kModelRate), testModel(74, kModelRate)};
    const std::size_t frames = static_cast<std::size_t>(kStreamRate);
    const std::vector<float> x[2] = {pluckedSignal(frames, kStreamRate, 3), pluckedSignal(frames, kStreamRate, 4)};
    Chain chain(models[0], &dir);

    std::atomic<bool> stop{false};
    std::atomic<std::size_t> audioAllocations{0}, nonFinite{0}, callbacks{0};
    std::thread audio([&] {
        std::vector<float> l(1000), r(1000);
        float* out[2] = {l.data(), r.data()};
        std::size_t pos = 0, k = 0;
        mfx::test::ScopedAllocationCount counter;
        while (!stop.load()) {
            const int n = kCallbacks[k++ % 7];
            if (pos + static_cast<std::size_t>(n) > frames) pos = 0;
            const float* in[2] = {x[0].data() + pos, x[1].data() + pos};
            chain.processor->process(in, out, n, false);
            for (int i = 0; i < n; ++i)
                if (!std::isfinite(l[static_cast<std::size_t>(i)]) || !std::isfinite(r[static_cast<std::size_t>(i)])) ++nonFinite;
            pos += static_cast<std::size_t>(n);
            ++callbacks;
        }
        audioAllocations = counter.count();
    });

    // The UI thread's part: load, publish when the slot takes it, toggle bypass, collect. Every wait has a
    // deadline, so a slot that never picks an engine up fails the test instead of hanging it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    auto waitFor = [&](auto done) {
        while (!done())
            if (std::chrono::steady_clock::now() > deadline) return false;
            else std::this_thread::yield();
        return true;
    };
    const int swaps = 12;
    int pickedUp = 0;
    const RealtimeEngine* last = nullptr;
    for (int i = 0; i < swaps; ++i) {
        auto e = warmEngine(models[(i + 1) % 2]);
        const RealtimeEngine* mine = e.get();
        if (!waitFor([&] { return chain.slot.publish(e); })) break; // publish() also collects
        chain.processor->setBypass(i % 3 == 1);
        if (!waitFor([&] { return chain.slot.current() == mine; })) break; // the audio thread took it
        ++pickedUp;
        last = mine;
        chain.slot.collect();
    }
    chain.processor->setBypass(false);
    const std::uint64_t framesAtEnd = chain.status.frames();
    CHECK(waitFor([&] { return chain.status.frames() > framesAtEnd + 3 * EngineSlot::kCrossfadeSamples; })); // last fade ends
    stop = true;
    audio.join();
    chain.slot.collect();

    CHECK(audioAllocations.load() == 0);
    CHECK(nonFinite.load() == 0);
    CHECK(pickedUp == swaps);
    CHECK(chain.slot.current() == last);
    CHECK(chain.adapter.underruns() == 0);
    CHECK(callbacks.load() > 0);
}
