// The lock-free pieces between the audio thread and the others: SPSC ring, status board, load histogram.
#include <live/LoadHistogram.h>

#include <limits>
#include <live/SpscRing.h>
#include <live/StatusBoard.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace mfx::live;

TEST_CASE("ring takes planar blocks and gives interleaved frames and wraps and refuses when full", "[live][lockfree]") {
    SpscRing ring(2, 6); // rounded up to 8 frames
    REQUIRE(ring.capacityFrames() == 8);
    std::vector<float> l{1, 2, 3, 4, 5}, r{-1, -2, -3, -4, -5};
    const float* planar[2] = {l.data(), r.data()};
    REQUIRE(ring.pushPlanar(planar, 5));
    CHECK(ring.available() == 5);
    CHECK_FALSE(ring.pushPlanar(planar, 4)); // 3 free: all or nothing
    CHECK(ring.available() == 5);
    std::vector<float> out(16, 0.0f);
    REQUIRE(ring.pop(out.data(), 3) == 3);
    CHECK(out[0] == 1);
    CHECK(out[1] == -1);
    CHECK(out[4] == 3);
    CHECK(out[5] == -3);
    REQUIRE(ring.pushPlanar(planar, 5)); // wraps around the end
    REQUIRE(ring.pop(out.data(), 8) == 7);
    const std::vector<float> expect{4, -4, 5, -5, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5};
    CHECK(std::vector<float>(out.begin(), out.begin() + 14) == expect);
    CHECK(ring.pop(out.data(), 8) == 0);
}

TEST_CASE("ring between two threads delivers every frame once and in order", "[live][lockfree]") {
    SpscRing ring(1, 256);
    constexpr int kTotal = 200000;
    std::thread producer([&] {
        std::vector<float> block(37);
        int next = 0;
        while (next < kTotal) {
            const int n = std::min(37, kTotal - next);
            for (int i = 0; i < n; ++i) block[static_cast<std::size_t>(i)] = static_cast<float>(next + i);
            const float* p[1] = {block.data()};
            if (ring.pushPlanar(p, static_cast<std::size_t>(n))) next += n;
            else std::this_thread::yield();
        }
    });
    std::vector<float> buf(100);
    int expected = 0;
    bool inOrder = true;
    while (expected < kTotal) {
        const std::size_t n = ring.pop(buf.data(), buf.size());
        for (std::size_t i = 0; i < n; ++i) inOrder = inOrder && buf[i] == static_cast<float>(expected++);
        if (n == 0) std::this_thread::yield();
    }
    producer.join();
    CHECK(inOrder);
    CHECK(expected == kTotal);
    CHECK(ring.available() == 0);
}

TEST_CASE("status board keeps maxima since the last take and growing counters", "[live][lockfree]") {
    StatusBoard b;
    b.update(0.5f, 0.25f, 0.1f, false, 64);
    b.update(0.2f, 0.75f, 0.3f, true, 64);
    b.update(0.1f, 0.10f, 0.2f, false, 64);
    StatusSnapshot s = b.take();
    CHECK(s.inputPeak == 0.5f);
    CHECK(s.outputPeak == 0.75f);
    CHECK(s.loadMax == 0.3f);
    CHECK(s.loadLast == 0.2f);
    CHECK(s.callbacks == 3);
    CHECK(s.xruns == 1);
    CHECK(s.frames == 192);
    s = b.take();
    CHECK(s.inputPeak == 0.0f);
    CHECK(s.outputPeak == 0.0f);
    CHECK(s.loadMax == 0.0f);
    CHECK(s.callbacks == 3);
    CHECK(b.frames() == 192);
    CHECK(b.xruns() == 1);
}

TEST_CASE("status board: a reader taking concurrently never loses a peak", "[live][lockfree]") {
    // Hand-over per peak: the writer publishes peak k among filler blocks (below the peaks), then
    // waits until the reader has seen it before publishing k + 1 (or gives up after a second and
    // counts it lost). Every peak must be seen exactly once, in order, none lost, however the
    // writer's compare-exchange and the reader's exchange interleave.
    StatusBoard b;
    constexpr int kPeaks = 20000;
    std::atomic<int> taken{0};
    std::atomic<bool> done{false};
    int lost = 0, blocks = 0;
    std::thread writer([&] {
        for (int k = 1; k <= kPeaks; ++k) {
            for (int f = 0; f < k % 5; ++f, ++blocks) b.update(0.5f, 0.0f, 0.0f, false, 1); // before the peak
            b.update(1.0f + static_cast<float>(k), 0.0f, 0.0f, false, 1);
            ++blocks;
            for (int f = 0; f < k % 3; ++f, ++blocks) b.update(0.5f, 0.0f, 0.0f, false, 1); // after it
            const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            while (taken.load() < k - lost)
                if (std::chrono::steady_clock::now() > giveUp) {
                    ++lost;
                    break;
                }
        }
        done.store(true);
    });
    std::vector<float> seen;
    for (;;) {
        const bool last = done.load();
        const StatusSnapshot s = b.take();
        if (s.inputPeak > 1.0f) {
            seen.push_back(s.inputPeak);
            taken.fetch_add(1);
        }
        if (last) break;
    }
    writer.join();
    CHECK(lost == 0);
    REQUIRE(seen.size() == static_cast<std::size_t>(kPeaks));
    int wrong = 0;
    for (int k = 1; k <= kPeaks; ++k) wrong += seen[static_cast<std::size_t>(k - 1)] != 1.0f + static_cast<float>(k);
    CHECK(wrong == 0); // each peak once, in order
    CHECK(b.callbacks() == static_cast<std::uint64_t>(blocks));
}

TEST_CASE("load histogram gives median and 99.9th percentile and max", "[live][lockfree]") {
    LoadHistogram h;
    CHECK(h.quantile(0.5) == 0.0);
    for (int i = 0; i < 9990; ++i) h.add(0.05);
    for (int i = 0; i < 10; ++i) h.add(0.5);
    CHECK(h.count() == 10000);
    CHECK(h.quantile(0.5) == Approx(0.051).margin(1e-9));
    CHECK(h.quantile(0.999) == Approx(0.051).margin(1e-9));
    CHECK(h.quantile(0.9995) == Approx(0.5).margin(0.0011));
    CHECK(h.max() == 0.5);
    h.add(10.0); // beyond the last bin: the overflow bin reports the max
    CHECK(h.quantile(1.0) == 10.0);
    h.clear();
    CHECK(h.count() == 0);
    // a callback stalled for a long time (load far beyond int range once scaled) and a NaN stay in range
    h.add(5.0e9);
    h.add(std::numeric_limits<double>::quiet_NaN());
    CHECK(h.count() == 2);
    CHECK(h.max() == 5.0e9);
    CHECK(h.quantile(1.0) == 5.0e9);
}
