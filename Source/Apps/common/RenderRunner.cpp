// A batch of files over one or more backends (see RenderRunner.h).
#include "RenderRunner.h"

#include "CommandLine.h"
#include "Errors.h"
#include "Interrupt.h"

#include <Backend/Backend.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <numeric>
#include <thread>

namespace mfx::apps {

namespace {

// Everything the workers share, behind one mutex: the progress bar and the console.
class BatchState {
public:
    BatchState(const std::vector<RenderJob>& jobs, std::size_t workers, const BatchOptions& options)
        : jobs_(jobs), options_(options), total_(totalSeconds(jobs)), current_(workers, 0.0),
          progress_(total_, options.progress) {}

    void started(const RenderJob& job) {
        std::lock_guard lock(mutex_);
        if (current_.size() == 1) progress_.setLabel(job.input.filename().string());
        else updateLabel();
    }

    void advanced(std::size_t worker, double seconds) {
        std::lock_guard lock(mutex_);
        current_[worker] = seconds;
        progress_.update(doneSeconds());
    }

    void rendered(std::size_t worker, const RenderJob& job, const RenderStats& stats, double modelRate,
                  const std::string& where) {
        std::lock_guard lock(mutex_);
        finishFile(worker, job);
        ++result_.rendered;
        result_.audioSeconds += job.info.seconds();
        progress_.clear();
        if (options_.quiet) return;
        std::cout << summaryLine(job, stats, modelRate) << where << std::endl;
        if (stats.clippedSamples > 0) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.1f", 20.0 * std::log10(static_cast<double>(stats.peak)));
            printNote(job.output.string() + ": " + std::to_string(stats.clippedSamples) + " samples clipped (peak +" +
                      buf + " dBFS); " + clippingAdvice(job.outputFormat));
        }
    }

    void failed(std::size_t worker, const RenderJob& job, const std::string& what) {
        std::lock_guard lock(mutex_);
        finishFile(worker, job);
        ++result_.failed;
        progress_.clear();
        printError(what.find(job.input.string()) == std::string::npos ? job.input.string() + ": " + what : what);
    }

    // job: the file the worker was rendering (its temporary output is gone), nullptr between files.
    void interrupted(const RenderJob* job) {
        std::lock_guard lock(mutex_);
        result_.interrupted = true;
        progress_.finish();
        if (!job) return;
        std::cerr << "interrupted: removed the unfinished " << job->output.string() << std::endl;
        reportedInterrupt_ = true;
    }

    BatchResult finish() {
        std::lock_guard lock(mutex_);
        progress_.finish();
        if (result_.interrupted && !reportedInterrupt_) std::cerr << "interrupted" << std::endl;
        return result_;
    }

private:
    static double totalSeconds(const std::vector<RenderJob>& jobs) {
        double total = 0.0;
        for (const auto& job : jobs) total += job.info.seconds();
        return total;
    }
    // Never backwards (sums in another order round differently), exactly 100 % when all are done.
    double doneSeconds() {
        if (finishedFiles_ == jobs_.size()) return total_;
        shown_ = std::max(shown_, finishedSeconds_ + std::accumulate(current_.begin(), current_.end(), 0.0));
        return shown_;
    }
    void finishFile(std::size_t worker, const RenderJob& job) {
        current_[worker] = 0.0;
        finishedSeconds_ += job.info.seconds(); // failed files count too, so the bar reaches its end
        ++finishedFiles_;
        if (current_.size() > 1) updateLabel();
        progress_.update(doneSeconds());
    }
    void updateLabel() {
        progress_.setLabel(std::to_string(finishedFiles_) + "/" + std::to_string(jobs_.size()) + " files on " +
                           std::to_string(current_.size()) + " devices");
    }

    std::mutex mutex_;
    const std::vector<RenderJob>& jobs_;
    const BatchOptions options_;
    const double total_;          // seconds of all files
    std::vector<double> current_; // per worker: seconds done of its current file
    double finishedSeconds_ = 0.0;
    double shown_ = 0.0; // what the bar shows
    std::size_t finishedFiles_ = 0;
    Progress progress_;
    BatchResult result_;
    bool reportedInterrupt_ = false;
};

// "cuda:1 (NVIDIA H200)" -> "cuda:1"
std::string shortName(const RenderBackend& backend) {
    const std::string name = backend.name();
    return name.substr(0, name.find(' '));
}

// Worker `w` of `workers`: files w, w + workers, ... on its own backend.
void runWorker(std::size_t w, std::size_t workers, const std::vector<RenderJob>& jobs, const Model& model,
               RenderBackend& backend, const RenderSettings& settings, BatchState& state) {
    PreparedBackend prepared(backend);
    const std::string where = workers > 1 ? "  [" + shortName(backend) + "]" : "";
    for (std::size_t j = w; j < jobs.size(); j += workers) {
        const RenderJob& job = jobs[j];
        if (interruptRequested()) {
            state.interrupted(nullptr);
            return;
        }
        state.started(job);
        try {
            const RenderStats stats = renderFile(job, model, prepared, settings, [&](std::int64_t frames) {
                state.advanced(w, static_cast<double>(frames) / job.info.sampleRate);
            });
            state.rendered(w, job, stats, model.config.sampleRate, where);
        } catch (const Interrupted&) {
            state.interrupted(&job);
            return;
        } catch (const std::exception& e) {
            state.failed(w, job, e.what());
        } catch (...) {
            state.failed(w, job, "unknown error");
        }
    }
}

} // namespace

std::string summaryLine(const RenderJob& job, const RenderStats& stats, double modelRate) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%.2f s, %d ch, %d Hz%s, %.1fx real-time", stats.audioSeconds, job.info.channels,
                  job.info.sampleRate,
                  stats.resampled ? (" (resampled via the model's " + std::to_string(std::lround(modelRate)) + " Hz)").c_str() : "",
                  Progress::realtimeFactor(stats.audioSeconds, stats.wallSeconds));
    return job.input.string() + " -> " + job.output.string() + "  " + buf;
}

BatchResult renderBatch(const std::vector<RenderJob>& jobs, const Model& model, const std::vector<RenderBackend*>& backends,
                        const RenderSettings& settings, const BatchOptions& options) {
    if (backends.empty()) throw Failure("no backend to render on");
    const auto start = std::chrono::steady_clock::now();
    const std::size_t workers = backends.size();
    BatchState state(jobs, workers, options);
    if (workers == 1) {
        runWorker(0, 1, jobs, model, *backends[0], settings, state);
    } else {
        std::vector<std::thread> threads;
        threads.reserve(workers);
        for (std::size_t w = 0; w < workers; ++w)
            threads.emplace_back(runWorker, w, workers, std::cref(jobs), std::cref(model), std::ref(*backends[w]),
                                 std::cref(settings), std::ref(state));
        for (auto& t : threads) t.join();
    }
    BatchResult result = state.finish();
    result.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

} // namespace mfx::apps
