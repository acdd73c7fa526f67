#pragma once
// Runs work(w) for every w in [0, n) on n threads (on the calling thread when n == 1) and waits for
// all of them. For the trainer's per-segment and per-recording loops.
#include <thread>
#include <vector>

namespace mfx::train {

template <typename Work>
void runOnThreads(int n, Work&& work) {
    if (n <= 1) {
        work(0);
        return;
    }
    std::vector<std::thread> ts;
    ts.reserve(static_cast<std::size_t>(n));
    for (int w = 0; w < n; ++w) ts.emplace_back(work, w);
    for (auto& t : ts) t.join();
}

} // namespace mfx::train
