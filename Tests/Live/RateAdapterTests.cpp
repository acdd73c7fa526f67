// Running the model at its own rate inside a stream at another rate: the live chain (any block size)
// equals the same converters and engine run over the whole signal at once, delayed by exactly the
// reported latency; the FIFO never runs dry; nothing is allocated on the audio thread; the dry signal
// is delayed to line up.
#include "../Core/AllocationCounter.h"
#include "LiveTestUtil.h"

#include <live/LiveProcessor.h>
#include <live/RateAdapter.h>
#include <Engine/RestState.h>

#include <algorithm>

#include <catch2/catch.hpp>

using namespace mfx;
using namespace mfx::live;
using namespace mfx::live::test;

namespace {

std::unique_ptr<EngineSlot> slotWith(const Model& model, int channels, int maxBlock) {
    auto slot = std::make_unique<EngineSlot>(channels, maxBlock);
    auto engine = std::make_unique<RealtimeEngine>(model, channels);
    engine->warmUp();
    REQUIRE(slot->publish(engine));
    slot->process(nullptr, nullptr, channels, 0);
    return slot;
}

// The same chain over the whole mono signal at once: up-convert, model, down-convert (delivered order),
// the model's output less its rest output through the down-converter and the rest output added back
// (RateAdapter.h).
std::vector<float> wholeChain(const Model& model, const std::vector<float>& x, double streamRate, ResamplerQuality q) {
    const double modelRate = model.config.sampleRate;
    Resampler up(streamRate, modelRate, 1, q), down(modelRate, streamRate, 1, q);
    std::vector<float> mid(static_cast<std::size_t>(x.size() * modelRate / streamRate) + 64);
    const auto u = up.process(x.data(), x.size(), mid.data(), mid.size());
    REQUIRE(u.inputUsed == x.size());
    mid.resize(u.outputGenerated);
    RealtimeEngine engine(model, 1);
    std::vector<float> wet(mid.size());
    engine.process(mid.data(), wet.data(), static_cast<int>(mid.size()));
    for (auto& v : wet) v -= engine.restOutput();
    std::vector<float> y(x.size() + 64);
    const auto d = down.process(wet.data(), wet.size(), y.data(), y.size());
    y.resize(d.outputGenerated);
    for (auto& v : y) v += engine.restOutput();
    return y;
}

std::vector<float> runAdapter(RateAdapter& adapter, EngineSlot& slot, const std::vector<float>& x, int block) {
    std::vector<float> y(x.size());
    for (std::size_t done = 0; done < x.size();) {
        const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(block), x.size() - done));
        const float* in[1] = {x.data() + done};
        float* out[1] = {y.data() + done};
        adapter.process(slot, in, out, n);
        done += static_cast<std::size_t>(n);
    }
    return y;
}

} // namespace

TEST_CASE("rate adapter output is the whole-signal chain delayed by the reported latency", "[live][resample]") {
    struct Case {
        double streamRate, modelRate;
        ResamplerQuality quality;
        int block;
    };
    for (const Case c : {Case{48000, 44100, ResamplerQuality::Fast, 64}, Case{48000, 44100, ResamplerQuality::Medium, 37},
                         Case{44100, 48000, ResamplerQuality::Fast, 128}, Case{48000, 96000, ResamplerQuality::Fast, 32},
                         Case{96000, 48000, ResamplerQuality::Best, 256}}) {
        INFO(c.streamRate << " Hz stream, " << c.modelRate << " Hz model, " << toString(c.quality) << ", block " << c.block);
        const Model model = testModel(61, c.modelRate);
        const std::vector<float> x = pluckedSignal(static_cast<std::size_t>(c.streamRate), c.streamRate);
        auto slot = slotWith(model, 1, c.block);
        RateAdapter adapter(c.streamRate, c.modelRate, 1, c.block, c.quality);
        const std::vector<float> y = runAdapter(adapter, *slot, x, c.block);
        const std::vector<float> z = wholeChain(model, x, c.streamRate, c.quality);
        const auto p = static_cast<std::size_t>(adapter.latencyFrames());
        CHECK(adapter.underruns() == 0);
        CHECK(p < static_cast<std::size_t>(c.streamRate / 50)); // well under 20 ms, even with the best converter
        RealtimeEngine probe(model, 1);
        const float rest = probe.restOutput();
        CHECK(rest != 0.0f); // a model with an offset, so the check below means something
        bool restFirst = true, same = true;
        for (std::size_t i = 0; i < p; ++i) restFirst = restFirst && y[i] == rest;
        for (std::size_t i = p; i < y.size() && i - p < z.size(); ++i) same = same && y[i] == z[i - p];
        CHECK(restFirst);
        CHECK(same);
        CHECK(z.size() + p >= y.size()); // every output frame was compared
    }
}

TEST_CASE("rate adapter starts at the model's rest output with no step", "[live][resample]") {
    // An engine started at its rest state (as the live app's are) under silence: every output frame is
    // the rest output, from the first (before the offset, the first latencyFrames() were 0 and the
    // converter's fill rang up to the rest output).
    for (const double streamRate : {44100.0, 96000.0}) {
        INFO(streamRate << " Hz stream, 48 kHz model");
        const Model model = testModel(63, 48000.0);
        auto slot = std::make_unique<EngineSlot>(2, 256);
        auto engine = std::make_unique<RealtimeEngine>(model, 2);
        engine->setInitialState(engineRestState(model));
        const float rest = engine->restOutput();
        REQUIRE(slot->publish(engine));
        RateAdapter adapter(streamRate, 48000.0, 2, 256, ResamplerQuality::Medium);
        const std::vector<float> silence(static_cast<std::size_t>(streamRate / 2), 0.0f);
        std::vector<float> left(silence.size()), right(silence.size());
        for (std::size_t done = 0; done < silence.size(); done += 100) {
            const int n = static_cast<int>(std::min<std::size_t>(100, silence.size() - done));
            const float* in[2] = {silence.data() + done, silence.data() + done};
            float* out[2] = {left.data() + done, right.data() + done};
            adapter.process(*slot, in, out, n);
        }
        CHECK(rest != 0.0f);
        CHECK(std::all_of(left.begin(), left.end(), [&](float v) { return v == rest; }));
        CHECK(std::all_of(right.begin(), right.end(), [&](float v) { return v == rest; }));
    }
}

TEST_CASE("rate adapter never runs dry with uneven blocks and allocates nothing", "[live][resample][rt]") {
    const Model model = testModel(62, 44100.0);
    const std::vector<float> x = pluckedSignal(48000 * 4, 48000.0);
    auto slot = slotWith(model, 2, 256);
    RateAdapter adapter(48000, 44100, 2, 256, ResamplerQuality::Fast);
    std::vector<float> left(256), right(256);
    std::size_t allocations = 0, done = 0;
    int block = 1;
    {
        mfx::test::ScopedAllocationCount counter;
        while (done + 256 < x.size()) {
            block = block * 7 % 256 + 1; // 1..256, uneven
            const float* in[2] = {x.data() + done, x.data() + done};
            float* out[2] = {left.data(), right.data()};
            adapter.process(*slot, in, out, block);
            done += static_cast<std::size_t>(block);
        }
        allocations = counter.count();
    }
    CHECK(allocations == 0);
    CHECK(adapter.underruns() == 0);
}

TEST_CASE("processor with a rate adapter delays the dry signal by the adapter latency", "[live][resample]") {
    const Model model = testModel(63, 44100.0);
    const std::vector<float> x = pluckedSignal(24000, 48000.0);
    ProcessorSettings s;
    s.outputChannels = 1;
    s.maxBlock = 64;
    s.mix = 0.0f; // dry only: exactly the input, delayed
    auto slot = slotWith(model, 1, 64);
    RateAdapter adapter(48000, 44100, 1, 64, ResamplerQuality::Fast);
    StatusBoard status;
    LiveProcessor proc(s, *slot, status, nullptr, nullptr, &adapter);
    std::vector<float> y(x.size());
    for (std::size_t done = 0; done < x.size(); done += 64) {
        const float* in[1] = {x.data() + done};
        float* out[1] = {y.data() + done};
        proc.process(in, out, 64, false);
    }
    const auto p = static_cast<std::size_t>(adapter.latencyFrames());
    REQUIRE(p > 0);
    bool delayed = true;
    for (std::size_t i = 0; i < x.size(); ++i) delayed = delayed && y[i] == (i < p ? 0.0f : x[i - p]);
    CHECK(delayed);
}
