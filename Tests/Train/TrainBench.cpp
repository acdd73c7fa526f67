// mfx_train_bench: training throughput (samples per second, forward + backward, float32 exact
// gradients) of each `mambafx train --size` on this CPU, one thread and all threads.
//   mfx_train_bench [seconds per measurement, default 5]
#include "Model/RandomModel.h"
#include "Train/Trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>

using namespace mfx;
using namespace mfx::train;

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
    struct Size { const char* name; int dModel, nLayers, dState; };
    const Size sizes[] = {{"nano", 8, 1, 8}, {"lite", 12, 2, 8}, {"standard", 16, 2, 16}, {"large", 32, 2, 16}};
    Recording r;
    r.input.resize(48000 * 20);
    for (std::size_t t = 0; t < r.input.size(); ++t) r.input[t] = static_cast<float>(0.3 * std::sin(t * 0.01) * std::sin(t * 0.0003));
    r.target = r.input;
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::printf("| size | config | parameters | 1 thread (samples/s, wall) | 1 thread (samples per CPU-second) | %d threads (samples/s, wall) |\n"
                "|---|---|---|---|---|---|\n", hw);
    for (const auto& s : sizes) {
        Config c;
        c.dModel = s.dModel; c.nLayers = s.nLayers; c.dState = s.dState; c.expand = 2; c.dConv = 4;
        c.dtRank = Config::defaultDtRank(c.dModel);
        double rate[2] = {0, 0}, cpuRate = 0;
        for (int k = 0; k < (hw > 1 ? 2 : 1); ++k) {
            TrainOptions o;
            o.segmentLength = 4096;
            o.warmup = 1024;
            o.batchSize = 8;
            o.threads = k == 0 ? 1 : hw;
            Trainer tr(randomModel(c, 1), {r}, {}, o);
            tr.step(); // warm up buffers
            const auto t0 = std::chrono::steady_clock::now();
            const std::clock_t c0 = std::clock();
            long n = 0;
            while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) { tr.step(); ++n; }
            rate[k] = static_cast<double>(n) * tr.samplesPerStep() / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (k == 0) cpuRate = static_cast<double>(n) * tr.samplesPerStep() / (static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
        }
        std::printf("| %s | dModel %d, nLayers %d, dState %d, expand 2, dConv 4 | %lld | %.0f | %.0f | %.0f |\n", s.name, s.dModel,
                    s.nLayers, s.dState, c.parameterCount(), rate[0], cpuRate, rate[1]);
        std::fflush(stdout);
    }
    return 0;
}
