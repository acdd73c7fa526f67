// mambafx bench: the speed of the real-time engine (block sizes 1..4096) and the offline CPU path over
// a sweep of model sizes, in ns/sample and x real time at 48 kHz, with each engine's memory.
// Times are the benchmarking thread's CPU time (robust on a shared machine) and wall time.
#include "Commands.h"

#include <common/CommandLine.h>
#include <common/Errors.h>
#include <common/MachineInfo.h>

#include "Engine/Kernels.h"
#include "Engine/OfflineRenderer.h"
#include "Engine/PreparedModel.h"
#include "Engine/RealtimeEngine.h"
#include "Model/ModelFile.h"
#include "Model/RandomModel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <sys/resource.h>
#include <vector>

namespace mfx::apps {

namespace {

struct BenchOptions {
    bool quick = false;
    double seconds = 2.0;
    int threads = 0;
    int repeat = 1;
    std::string model;
    std::string simd; // --simd: dispatch limited to this target
};

double peakRssMiB() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

struct Timing {
    double cpuNs, wallNs;
};

// Runs `fn(offset, len)` over `n` samples in pieces of `block`, after one warm-up pass.
template <typename F>
Timing measure(std::size_t n, std::size_t block, clockid_t clock, F&& fn) {
    for (std::size_t done = 0; done < std::min<std::size_t>(n, 48000); done += block) fn(done, std::min(block, n - done));
    const double c0 = cpuSeconds(clock);
    const auto w0 = std::chrono::steady_clock::now();
    for (std::size_t done = 0; done < n; done += block) fn(done, std::min(block, n - done));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    const double cpu = cpuSeconds(clock) - c0;
    return {1e9 * cpu / static_cast<double>(n), 1e9 * wall / static_cast<double>(n)};
}

// `repeat` measurements: the fastest (what the code costs; interference from other work on a shared
// machine only ever adds time) and the median.
struct Repeated {
    Timing best, median;
};
template <typename F>
Repeated measureRepeated(int repeat, std::size_t n, std::size_t block, clockid_t clock, F&& fn) {
    std::vector<Timing> runs;
    for (int r = 0; r < std::max(1, repeat); ++r) runs.push_back(measure(n, block, clock, fn));
    std::sort(runs.begin(), runs.end(), [](const Timing& a, const Timing& b) { return a.cpuNs < b.cpuNs; });
    return {runs.front(), runs[runs.size() / 2]};
}

// " (median of 5: 480.2)" when repeating, else nothing.
std::string medianNote(int repeat, double median) {
    if (repeat <= 1) return "";
    char b[64];
    std::snprintf(b, sizeof b, "  (median of %d: %.1f)", repeat, median);
    return b;
}

void benchModel(const Model& model, const BenchOptions& o) {
    const Config& c = model.config;
    const std::size_t n = static_cast<std::size_t>(o.seconds * 48000.0);
    std::vector<float> in(n), out(n);
    for (std::size_t t = 0; t < n; ++t) // a guitar-like test tone with a little noise
        in[t] = static_cast<float>(0.3 * std::sin(2 * M_PI * 110.0 * static_cast<double>(t) / 48000.0) *
                                       std::exp(-static_cast<double>(t % 24000) / 12000.0) +
                                   1e-3 * std::sin(static_cast<double>(t) * 12.9898));
    auto prepared = std::make_shared<const PreparedModel>(model);
    std::printf("dModel %2d  nLayers %d  dState %2d  expand %d  dConv %d  (%lld parameters)\n", c.dModel, c.nLayers, c.dState,
                c.expand, c.dConv, c.parameterCount());
    for (int block : {1, 64, 512, 4096}) {
        RealtimeEngine e(prepared, 1);
        const Repeated r = measureRepeated(o.repeat, n, static_cast<std::size_t>(block), CLOCK_THREAD_CPUTIME_ID,
                                           [&](std::size_t off, std::size_t len) {
                                               e.process(in.data() + off, out.data() + off, static_cast<int>(len));
                                           });
        const Timing& t = r.best;
        std::printf("  real-time  block %4d : %7.1f ns/sample  %7.1fx real time  (wall %7.1f ns)  engine memory %6.1f KiB%s\n", block,
                    t.cpuNs, 1e9 / 48000.0 / t.cpuNs, t.wallNs, static_cast<double>(e.memoryBytes()) / 1024.0,
                    medianNote(o.repeat, r.median.cpuNs).c_str());
    }
    for (ScanMode mode : {ScanMode::ChannelParallel, ScanMode::TimeChunked}) {
        OfflineOptions oo;
        oo.numThreads = o.threads;
        oo.scan = mode;
        OfflineRenderer off(prepared, 1, oo);
        const Timing t = measureRepeated(o.repeat, n, n, CLOCK_PROCESS_CPUTIME_ID, [&](std::size_t off0, std::size_t len) {
                             off.process(0, in.data() + off0, out.data() + off0, len);
                         }).best;
        const int threads = oo.numThreads > 0 ? oo.numThreads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        std::printf("  offline %-8s %2d thread%s: %7.1f ns/sample wall  %7.1fx real time  (CPU, all threads %7.1f ns)\n",
                    mode == ScanMode::TimeChunked ? "chunked" : "lanes", threads, threads == 1 ? " " : "s", t.wallNs,
                    1e9 / 48000.0 / t.wallNs, t.cpuNs);
    }
}

void runBench(const BenchOptions& o) {
    if (!o.simd.empty()) {
        const char* available = "";
        if (!kernels::limitTargets(o.simd.c_str(), &available))
            throw UsageError("--simd " + o.simd + ": not a SIMD target of this build that this CPU supports (these are: " +
                             std::string(available) + ")");
    }
    std::printf("mambafx bench: %s, SIMD target %s, %u hardware threads\n", cpuName().c_str(), kernels::targetName(),
                std::thread::hardware_concurrency());
    std::printf("ns/sample = thread CPU time per sample (wall time in brackets); x real time at 48 kHz%s\n\n",
                o.repeat > 1 ? "; the fastest of --repeat runs, their median beside it" : "");
    if (!o.model.empty()) {
        benchModel(loadModel(o.model), o);
    } else if (o.quick) {
        benchModel(randomModel(Config{}, 1), o);
    } else {
        for (int dModel : {8, 16, 32})
            for (int dState : {8, 16, 32})
                for (int nLayers : {1, 2, 4}) {
                    Config c;
                    c.dModel = dModel;
                    c.dState = dState;
                    c.nLayers = nLayers;
                    c.dtRank = Config::defaultDtRank(dModel);
                    benchModel(randomModel(c, 1), o);
                }
    }
    std::printf("\npeak resident memory of this process: %.1f MiB\n", peakRssMiB());
}

} // namespace

void addBenchCommand(CLI::App& app) {
    auto o = std::make_shared<BenchOptions>();
    auto* cmd = app.add_subcommand("bench", "Measure the engines' speed (ns/sample, x real time) over a sweep of model sizes");
    cmd->add_flag("--quick", o->quick, "Only the reference size (dModel 16, nLayers 2, dState 16, expand 2, dConv 4)");
    cmd->add_option("--model", o->model, "Benchmark this model file instead of the sweep")->check(CLI::ExistingFile);
    cmd->add_option("--seconds", o->seconds, "Seconds of 48 kHz audio per measurement")->check(finiteRange(0.05, 600.0));
    cmd->add_option("--threads", o->threads, "Threads for the offline path (0: all)")->check(CLI::Range(0, 256));
    cmd->add_option("--repeat", o->repeat, "Runs per measurement: the fastest is printed, and the median (default 1)")
        ->check(CLI::Range(1, 100));
    cmd->add_option("--simd", o->simd, "Run the engines on this SIMD target instead of the best one (e.g. AVX2, SSE4)")
        ->check(CLI::Validator([](std::string& v) { return v.empty() ? std::string("a SIMD target name, e.g. AVX2") : std::string(); },
                               "TARGET"));
    cmd->callback([o] {
        try {
            runBench(*o);
        } catch (const UsageError&) {
            throw; // exit 2, as for any other bad option
        } catch (const std::exception& e) {
            throw Failure(e.what());
        }
    });
}

} // namespace mfx::apps
