#include "ThreadPool.h"
#include "Denormals.h"

#include <algorithm>

namespace mfx {

ThreadPool::ThreadPool(int numThreads) {
    if (numThreads <= 0) numThreads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i < numThreads; ++i) workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

void ThreadPool::runTasks() {
    for (;;) {
        const std::size_t i = next_.fetch_add(1);
        if (i >= numChunks_) return;
        const std::size_t b = i * chunk_;
        (*job_)(b, std::min(n_, b + chunk_));
    }
}

void ThreadPool::workerLoop() {
    ScopedFlushDenormals noDenormals; // workers only ever run engine work
    unsigned long seen = 0;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
            if (stop_) return;
            seen = generation_;
            // A worker that wakes after its job was closed must not touch the shared counter: the next
            // job would reset it and this worker would take (and lose or repeat) one of its indices.
            if (!open_) continue;
            ++busy_;
        }
        runTasks();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            --busy_;
        }
        done_.notify_all();
    }
}

void ThreadPool::parallelFor(std::size_t n, std::size_t grain, FunctionRef<void(std::size_t, std::size_t)> f) noexcept {
    if (n == 0) return;
    grain = std::max<std::size_t>(grain, 1);
    const std::size_t threads = workers_.size() + 1;
    // chunks: a multiple of grain, about 4 per thread for balance
    std::size_t chunk = std::max(grain, (n + threads * 4 - 1) / (threads * 4));
    chunk = (chunk + grain - 1) / grain * grain;
    if (workers_.empty() || chunk >= n) {
        f(0, n);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &f;
        n_ = n;
        chunk_ = chunk;
        numChunks_ = (n + chunk - 1) / chunk;
        next_.store(0);
        ++generation_;
        open_ = true;
    }
    wake_.notify_all();
    runTasks(); // returns when every index has been taken
    std::unique_lock<std::mutex> lock(mutex_);
    open_ = false; // late workers stay out; the ones that joined are counted in busy_
    done_.wait(lock, [&] { return busy_ == 0; });
    job_ = nullptr;
}

} // namespace mfx
