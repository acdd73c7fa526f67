// The recorder: the audio thread's blocks arrive in the file bit for bit, under the final name only
// after finish(); errors are clear and leave no file behind.
#include "../Core/AllocationCounter.h" // the core tests' counter: operator new and malloc family
#include "LiveTestUtil.h"

#include <live/LiveOptions.h>
#include <live/Recorder.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace mfx::live;
using namespace mfx::live::test;
namespace fs = std::filesystem;

namespace {

std::size_t filesIn(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

} // namespace

TEST_CASE("recorder writes blocks from another thread bit for bit and renames at finish", "[live][recorder]") {
    ScratchDir dir;
    const fs::path target = dir / "take.wav";
    const std::size_t frames = 48000 * 3 + 17;
    std::vector<float> left = pluckedSignal(frames, 48000.0, 1), right = pluckedSignal(frames, 48000.0, 2);
    {
        Recorder rec(target.string(), 2, 48000, 0.5); // small ring: the writer must keep up
        std::thread audio([&] {
            for (std::size_t done = 0; done < frames;) {
                const int n = static_cast<int>(std::min<std::size_t>(64, frames - done));
                const float* planar[2] = {left.data() + done, right.data() + done};
                rec.push(planar, n);
                done += static_cast<std::size_t>(n);
                std::this_thread::sleep_for(std::chrono::microseconds(100)); // about 10x real time
            }
        });
        audio.join();
        CHECK_FALSE(fs::exists(target)); // still under the temporary name
        rec.finish();
        CHECK(rec.framesDropped() == 0);
        CHECK(rec.framesWritten() == frames);
    }
    REQUIRE(fs::exists(target));
    CHECK(filesIn(dir.path()) == 1); // no temporary left over
    const Sound s = readSound(target);
    REQUIRE(s.channels == 2);
    REQUIRE(s.rate == 48000);
    REQUIRE(s.frames() == frames);
    bool same = true;
    for (std::size_t i = 0; i < frames; ++i) same = same && s.samples[2 * i] == left[i] && s.samples[2 * i + 1] == right[i];
    CHECK(same);
    CHECK((fs::status(target).permissions() & fs::perms::owner_read) != fs::perms::none);
}

TEST_CASE("recorder: a full ring drops whole blocks and counts them", "[live][recorder]") {
    ScratchDir dir;
    std::vector<float> x(512, 0.25f);
    const float* planar[1] = {x.data()};
    Recorder rec((dir / "drop.wav").string(), 1, 8000, 0.1); // ring of 1024 frames
    // The writer drains every 5 ms; pushing 100 blocks of 512 at once must overflow.
    for (int i = 0; i < 100; ++i) rec.push(planar, 512);
    rec.finish();
    CHECK(rec.framesWritten() >= 1024);
    CHECK(rec.framesDropped() > 0);
    CHECK(rec.framesDropped() % 512 == 0);
    CHECK(rec.framesWritten() + rec.framesDropped() == 100u * 512u);
    CHECK(readSound(dir / "drop.wav").frames() == rec.framesWritten());
}

TEST_CASE("recorder leaves nothing when abandoned and reports bad paths clearly", "[live][recorder]") {
    ScratchDir dir;
    {
        Recorder rec((dir / "never.wav").string(), 2, 48000);
        std::vector<float> x(64, 0.1f);
        const float* planar[2] = {x.data(), x.data()};
        rec.push(planar, 64);
    } // destroyed without finish(): an error path
    CHECK(filesIn(dir.path()) == 0);

    try {
        Recorder rec((dir / "no" / "such" / "folder.wav").string(), 2, 48000);
        FAIL("expected an error");
    } catch (const LiveError& e) {
        CHECK_THAT(e.what(), Catch::Contains("cannot create a file there") && Catch::Contains("folder exists"));
    }
    CHECK_THROWS_WITH(Recorder((dir / "x.ogg").string(), 2, 48000), Catch::Contains("unknown file type '.ogg'"));
    CHECK(recordFormatFor("a.flac") != recordFormatFor("a.wav"));
    CHECK_THROWS_AS(recordFormatFor("a"), LiveError);
}

TEST_CASE("recorder: FLAC is written as 24-bit", "[live][recorder]") {
    ScratchDir dir;
    std::vector<float> x = pluckedSignal(4800, 48000.0);
    {
        Recorder rec((dir / "t.flac").string(), 1, 48000);
        const float* planar[1] = {x.data()};
        rec.push(planar, 4800);
        rec.finish();
    }
    const Sound s = readSound(dir / "t.flac");
    REQUIRE(s.frames() == 4800);
    double worst = 0.0;
    for (std::size_t i = 0; i < 4800; ++i) worst = std::max(worst, std::fabs(static_cast<double>(s.samples[i] - x[i])));
    CHECK(worst < 2.0 / (1 << 23));
}

TEST_CASE("recorder push (the audio thread's side) allocates and frees nothing, also when the ring is full", "[live][recorder][rt]") {
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the ring's positions and counters must be lock-free");
    ScratchDir dir;
    const std::size_t frames = 10000;
    const std::vector<float> left = pluckedSignal(frames, 48000.0, 5), right = pluckedSignal(frames, 48000.0, 6);
    Recorder rec((dir / "rt.wav").string(), 2, 48000, 0.25); // ring of 16384 frames
    std::size_t allocations = 0, pushed = 0;
    {
        mfx::test::ScopedAllocationCount counter;
        // Uneven blocks that fit in the ring: all of them are kept.
        const int sizes[] = {1, 64, 0, 333, 1000, 257};
        for (std::size_t done = 0, k = 0; done < frames; ++k) {
            const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(sizes[k % 6]), frames - done));
            const float* planar[2] = {left.data() + done, right.data() + done};
            rec.push(planar, n);
            done += static_cast<std::size_t>(n);
        }
        pushed += frames;
        // Far more than the ring holds at once (the writer drains every 5 ms): blocks are dropped and counted.
        const float* planar[2] = {left.data(), right.data()};
        for (int i = 0; i < 100; ++i) rec.push(planar, 1000);
        pushed += 100 * 1000;
        allocations = counter.count();
    }
    CHECK(allocations == 0);
    rec.finish();
    CHECK(rec.framesDropped() > 0); // the full-ring path ran
    CHECK(rec.framesWritten() + rec.framesDropped() == pushed);
    const Sound s = readSound(dir / "rt.wav");
    REQUIRE(s.frames() == rec.framesWritten());
    REQUIRE(s.frames() >= frames);
    bool same = true;
    for (std::size_t i = 0; i < frames; ++i) same = same && s.samples[2 * i] == left[i] && s.samples[2 * i + 1] == right[i];
    CHECK(same);
}
