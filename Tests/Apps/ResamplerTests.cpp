// Dsp/Resampler: libsamplerate's streaming sinc converters. Streaming in any chunk sizes equals the
// one-shot conversion, output is time-aligned (no shift) and exactly as long as the input's duration
// once flushed, the reported latency is the held-back amount, and process() never allocates.
#include "../Core/AllocationCounter.h"
#include "AppTestUtil.h"

#include <Dsp/Resampler.h>

#include <catch2/catch.hpp>

#include <samplerate.h>

#include <cmath>
#include <random>

using namespace mfx;
using namespace mfx::apptest;

namespace {

// Streams `x` (mono) through `r` in random chunk sizes (and small output buffers), then flushes.
std::vector<float> streamThrough(Resampler& r, const std::vector<float>& x, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> chunk(1, 3000), room(1, 5000);
    std::vector<float> y, buf(6000);
    for (std::size_t pos = 0; pos < x.size();) {
        const std::size_t n = std::min(chunk(rng), x.size() - pos);
        std::size_t used = 0;
        while (used < n) {
            const auto res = r.process(x.data() + pos + used, n - used, buf.data(), room(rng));
            REQUIRE(res.inputUsed + res.outputGenerated > 0);
            used += res.inputUsed;
            y.insert(y.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(res.outputGenerated));
        }
        pos += n;
    }
    for (;;) {
        const std::size_t k = r.flush(buf.data(), room(rng));
        if (k == 0) break;
        y.insert(y.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
    }
    return y;
}

std::vector<float> simple(const std::vector<float>& x, double ratio, int converter) {
    std::vector<float> y(static_cast<std::size_t>(std::ceil(x.size() * ratio)) + 64);
    SRC_DATA d{};
    d.data_in = x.data();
    d.input_frames = static_cast<long>(x.size());
    d.data_out = y.data();
    d.output_frames = static_cast<long>(y.size());
    d.src_ratio = ratio;
    REQUIRE(src_simple(&d, converter, 1) == 0);
    y.resize(static_cast<std::size_t>(d.output_frames_gen));
    return y;
}

} // namespace

TEST_CASE("Resampler names its qualities", "[apps][resampler]") {
    CHECK(parseResamplerQuality("best") == ResamplerQuality::Best);
    CHECK(parseResamplerQuality("medium") == ResamplerQuality::Medium);
    CHECK(parseResamplerQuality("fast") == ResamplerQuality::Fast);
    CHECK_FALSE(parseResamplerQuality("linear").has_value());
    CHECK(std::string(toString(ResamplerQuality::Medium)) == "medium");
}

TEST_CASE("Resampler refuses impossible rates and channel counts", "[apps][resampler]") {
    CHECK_THROWS_AS(Resampler(0.0, 48000.0, 1), std::invalid_argument);
    CHECK_THROWS_AS(Resampler(44100.0, -1.0, 1), std::invalid_argument);
    CHECK_THROWS_AS(Resampler(1000.0, 1000.0 * 300, 1), std::invalid_argument); // ratio > 256
    CHECK_THROWS_AS(Resampler(44100.0, 48000.0, 0), std::invalid_argument);
}

TEST_CASE("Resampler streaming in random pieces equals the one-shot conversion", "[apps][resampler]") {
    const auto [from, to] = GENERATE(std::pair{44100.0, 48000.0}, std::pair{48000.0, 44100.0}, std::pair{96000.0, 48000.0},
                                     std::pair{22050.0, 48000.0});
    const auto quality = GENERATE(ResamplerQuality::Best, ResamplerQuality::Fast);
    const int converter = quality == ResamplerQuality::Best ? SRC_SINC_BEST_QUALITY : SRC_SINC_FASTEST;
    INFO(from << " -> " << to << " quality " << toString(quality));
    const auto x = sineMix(40000, from, 3, std::min(from, to) * 0.4);
    Resampler r(from, to, 1, quality);
    const auto y = streamThrough(r, x, 7);
    const auto ref = simple(x, to / from, converter);
    CHECK(std::abs(static_cast<double>(y.size()) - static_cast<double>(ref.size())) <= 1.0);
    std::vector<float> a(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(std::min(y.size(), ref.size())));
    std::vector<float> b(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(a.size()));
    CHECK(relativeL2(a, b) < 1e-6);
    // Duration is kept: output frames = input frames x ratio (within one frame).
    CHECK(std::abs(static_cast<double>(y.size()) - x.size() * to / from) <= 1.0);
}

TEST_CASE("Resampler output is time-aligned: an impulse lands at the same time", "[apps][resampler]") {
    const auto [from, to] = GENERATE(std::pair{44100.0, 48000.0}, std::pair{48000.0, 44100.0}, std::pair{48000.0, 96000.0});
    std::vector<float> x(20000, 0.0f);
    x[5000] = 1.0f;
    Resampler r(from, to, 1);
    const auto y = streamThrough(r, x, 1);
    std::size_t peak = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
        if (std::abs(y[i]) > std::abs(y[peak])) peak = i;
    CHECK(std::abs(static_cast<double>(peak) - 5000.0 * to / from) <= 1.0);
}

TEST_CASE("Resampler round trip 44.1k -> 48k -> 44.1k returns the band-limited signal", "[apps][resampler]") {
    const auto x = sineMix(60000, 44100.0, 5, 15000.0);
    Resampler up(44100.0, 48000.0, 1), down(48000.0, 44100.0, 1);
    const auto mid = streamThrough(up, x, 2);
    auto back = streamThrough(down, mid, 3);
    REQUIRE(std::abs(static_cast<double>(back.size()) - x.size()) <= 2.0);
    back.resize(x.size(), 0.0f);
    // Away from the edges (where the sinc filter sees the silence outside the signal).
    std::vector<float> a(back.begin() + 1000, back.end() - 1000), b(x.begin() + 1000, x.end() - 1000);
    CHECK(relativeL2(a, b) < 1e-3);
}

TEST_CASE("Resampler reports its delivery delay and handles interleaved channels", "[apps][resampler]") {
    Resampler best(44100.0, 48000.0, 2, ResamplerQuality::Best);
    Resampler fast(44100.0, 48000.0, 2, ResamplerQuality::Fast);
    CHECK(best.latencyOutputFrames() > fast.latencyOutputFrames());
    CHECK(fast.latencyOutputFrames() > 0);
    CHECK(best.latencyInputFrames() == Approx(best.latencyOutputFrames() / best.ratio()));

    // Feeding N frames delivers about N*ratio - latency frames before the flush.
    const std::size_t n = 30000;
    const auto left = sineMix(n, 44100.0, 1), right = sineMix(n, 44100.0, 2);
    const auto x = interleave({left, right});
    std::vector<float> out((n * 2 + 100) * 2);
    const auto res = best.process(x.data(), n, out.data(), n * 2);
    CHECK(res.inputUsed == n);
    const double held = n * best.ratio() - static_cast<double>(res.outputGenerated);
    CHECK(held <= best.latencyOutputFrames() + 1.0);
    CHECK(held >= best.latencyOutputFrames() - 2.0);

    // Each interleaved channel is converted as if alone.
    std::size_t total = res.outputGenerated;
    for (;;) {
        const std::size_t k = best.flush(out.data() + total * 2, out.size() / 2 - total);
        if (k == 0) break;
        total += k;
    }
    std::vector<float> l(total), r(total); // (frames)
    for (std::size_t i = 0; i < total; ++i) {
        l[i] = out[2 * i];
        r[i] = out[2 * i + 1];
    }
    Resampler mono(44100.0, 48000.0, 1);
    auto lRef = streamThrough(mono, left, 4);
    mono.reset();
    auto rRef = streamThrough(mono, right, 5);
    // libsamplerate may end a multichannel conversion one frame later; compare the common part.
    REQUIRE(std::abs(static_cast<double>(total) - static_cast<double>(lRef.size())) <= 1.0);
    total = std::min({total, lRef.size(), rRef.size()});
    l.resize(total);
    r.resize(total);
    lRef.resize(total);
    rRef.resize(total);
    CHECK(relativeL2(l, lRef) < 1e-6);
    CHECK(relativeL2(r, rRef) < 1e-6);
}

TEST_CASE("Resampler process, flush and reset never allocate", "[apps][resampler]") {
    Resampler r(44100.0, 48000.0, 2);
    const auto x = interleave({noiseSignal(4096, 1), noiseSignal(4096, 2)});
    std::vector<float> out(2 * 6000);
    std::size_t produced = 0;
    std::size_t allocations = 0;
    {
        test::ScopedAllocationCount counter;
        for (int rep = 0; rep < 20; ++rep) {
            for (std::size_t pos = 0; pos < 4096; pos += 256)
                produced += r.process(x.data() + pos * 2, 256, out.data(), 6000).outputGenerated;
        }
        produced += r.flush(out.data(), 6000);
        r.reset();
        produced += r.process(x.data(), 4096, out.data(), 6000).outputGenerated;
        allocations = counter.count();
    }
    CHECK(produced > 0);
    CHECK(allocations == 0);
    // The counter itself works: the constructor allocates.
    test::ScopedAllocationCount counter;
    Resampler another(48000.0, 44100.0, 1);
    CHECK(counter.count() > 0);
}
