#pragma once
// Runs work(w) for every w in [0, n) on n threads (on the calling thread when n == 1) and waits for
// all of them. For the trainer's per-segment and per-recording loops. An exception thrown by any
// work item (e.g. std::bad_alloc) is rethrown on the calling thread after every thread has been
// joined, as with n == 1; so is a failure to start a thread (the ones started are joined first).
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mfx::train {

template <typename Work>
void runOnThreads(int n, Work&& work) {
    if (n <= 1) {
        work(0);
        return;
    }
    std::exception_ptr first;
    std::mutex firstMutex;
    auto guarded = [&](int w) {
        try {
            work(w);
        } catch (...) {
            std::lock_guard<std::mutex> lock(firstMutex);
            if (!first) first = std::current_exception();
        }
    };
    std::vector<std::thread> ts;
    ts.reserve(static_cast<std::size_t>(n));
    try {
        for (int w = 0; w < n; ++w) ts.emplace_back(guarded, w);
    } catch (...) {
        for (auto& t : ts) t.join();
        throw;
    }
    for (auto& t : ts) t.join();
    if (first) std::rethrow_exception(first);
}

} // namespace mfx::train
