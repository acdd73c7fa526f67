#pragma once
// A small fork-join pool for the offline path: parallelFor splits a range into tasks that the
// calling thread and the workers take from a shared counter. Not for the audio thread.
#include "Executor.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace mfx {

class ThreadPool final : public Executor {
public:
    explicit ThreadPool(int numThreads); // total threads including the caller; <= 0: hardware concurrency
    ~ThreadPool() override;

    int numThreads() const noexcept { return static_cast<int>(workers_.size()) + 1; }
    void parallelFor(std::size_t n, std::size_t grain, FunctionRef<void(std::size_t, std::size_t)> f) noexcept override;

private:
    void workerLoop();
    void runTasks();

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    bool stop_ = false;
    unsigned long generation_ = 0;
    int busy_ = 0;      // workers inside the current job
    bool open_ = false; // the current job still takes workers (closed once every index is taken)
    // the current job
    FunctionRef<void(std::size_t, std::size_t)>* job_ = nullptr;
    std::size_t n_ = 0, chunk_ = 0, numChunks_ = 0;
    std::atomic<std::size_t> next_{0};
};

} // namespace mfx
