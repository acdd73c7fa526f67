// Thread helpers. The offline path's fork-join pool: every index of every job runs exactly once, also when jobs
// follow each other faster than late workers wake up (more threads than cores, so they get
// preempted between being woken and taking work).
#include "Engine/ThreadPool.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <memory>
#include <vector>

using namespace mfx;

TEST_CASE("ThreadPool runs every index of back-to-back jobs exactly once", "[engine][threads]") {
    for (const int threads : {2, 8, 16}) {
        ThreadPool pool(threads);
        constexpr std::size_t kN = 64;
        std::vector<std::atomic<int>> count(kN);
        int badJobs = 0;
        const int jobs = 20000;
        for (int j = 0; j < jobs; ++j) {
            for (auto& c : count) c.store(0);
            const std::size_t n = 1 + static_cast<std::size_t>(j * 7919) % kN; // 1..64 indices, varying chunking
            pool.parallelFor(n, 1, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) count[i].fetch_add(1);
            });
            bool ok = true;
            for (std::size_t i = 0; i < kN; ++i) ok = ok && count[i].load() == (i < n ? 1 : 0);
            if (!ok) ++badJobs;
        }
        INFO(threads << " threads: " << badJobs << " of " << jobs << " jobs ran an index zero or several times");
        CHECK(badJobs == 0);
    }
}

// The trainer's per-thread loop: an exception in a worker comes back to the caller (it used to reach
// std::terminate), after every thread has finished.
#include "Train/Parallel.h"

#include <stdexcept>

TEST_CASE("runOnThreads rethrows a worker's exception after joining every thread", "[train][threads]") {
    for (const int n : {1, 4}) {
        std::atomic<int> finished{0};
        auto run = [&] {
            mfx::train::runOnThreads(n, [&](int w) {
                if (w == n - 1) throw std::runtime_error("worker failed");
                finished.fetch_add(1);
            });
        };
        CHECK_THROWS_WITH(run(), "worker failed");
        CHECK(finished.load() == n - 1);
    }
    int sum = 0;
    std::mutex m;
    mfx::train::runOnThreads(3, [&](int w) {
        std::lock_guard<std::mutex> lock(m);
        sum += w + 1;
    });
    CHECK(sum == 6);
}
