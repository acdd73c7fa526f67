// mfx_train_bench: training throughput (samples per second, forward + backward, float32 exact
// gradients) of each `mambafx train --size`, on this CPU (one thread and all threads) or on a GPU.
//   mfx_train_bench [--seconds S] [--device cpu|cuda|cuda:N] [--batch B --segment L --warmup W]
// Defaults: 5 s per measurement; CPU: batch 8 x (4096 + 1024); GPU: batch 64 x (8192 + 2048).
// With MFX_TRAIN_PROFILE set, the GPU backend also reports where each step's time went (stderr).
#include "Model/RandomModel.h"
#include "Train/Sizes.h"
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
    double seconds = 5.0;
    std::string device = "cpu";
    int batch = 0;
    std::size_t segment = 0, warmup = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) { std::fprintf(stderr, "usage: mfx_train_bench [--seconds S] [--device D] [--batch B --segment L --warmup W]\n"); return 2; }
        if (a == "--seconds") seconds = std::atof(argv[++i]);
        else if (a == "--device") device = argv[++i];
        else if (a == "--batch") batch = std::atoi(argv[++i]);
        else if (a == "--segment") segment = std::strtoul(argv[++i], nullptr, 10);
        else if (a == "--warmup") warmup = std::strtoul(argv[++i], nullptr, 10);
        else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
    }
    const bool gpu = device != "cpu";
    if (batch == 0) batch = gpu ? 64 : 8;
    if (segment == 0) segment = gpu ? 8192 : 4096;
    if (warmup == 0) warmup = gpu ? 2048 : 1024;
    const auto& sizes = sizePresets();
    Recording r;
    r.input.resize(48000 * 30);
    for (std::size_t t = 0; t < r.input.size(); ++t) r.input[t] = static_cast<float>(0.3 * std::sin(t * 0.01) * std::sin(t * 0.0003));
    r.target = r.input;
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::printf("batch %d x (%zu + %zu warm-up) samples per step\n", batch, segment, warmup);
    if (gpu)
        std::printf("| size | config | parameters | device | samples/s (fwd+bwd) | ms per step |\n|---|---|---|---|---|---|\n");
    else
        std::printf("| size | config | parameters | 1 thread (samples/s, wall) | 1 thread (samples per CPU-second) | %d threads (samples/s, wall) |\n"
                    "|---|---|---|---|---|---|\n", hw);
    for (const auto& s : sizes) {
        const Config c = *sizePreset(s.name);
        double rate[2] = {0, 0}, cpuRate = 0, msPerStep = 0;
        std::string name;
        for (int k = 0; k < (gpu ? 1 : (hw > 1 ? 2 : 1)); ++k) {
            TrainOptions o;
            o.segmentLength = segment;
            o.warmup = warmup;
            o.batchSize = batch;
            o.threads = k == 0 && !gpu ? 1 : hw;
            std::string notice;
            auto backend = makeGradientBackend(device, c, o.threads, notice);
            if (!notice.empty()) { std::fprintf(stderr, "%s\n", notice.c_str()); return 1; }
            name = backend->name();
            Trainer tr(randomModel(c, 1), {r}, {}, o, std::move(backend));
            tr.step(); // warm up buffers
            const auto t0 = std::chrono::steady_clock::now();
            const std::clock_t c0 = std::clock();
            long n = 0;
            while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) { tr.step(); ++n; }
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            rate[k] = static_cast<double>(n) * tr.samplesPerStep() / wall;
            msPerStep = 1000.0 * wall / static_cast<double>(n);
            if (k == 0) cpuRate = static_cast<double>(n) * tr.samplesPerStep() / (static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
            if (gpu) std::fprintf(stderr, "%s", tr.backend().profileReport().c_str()); // with MFX_TRAIN_PROFILE set
        }
        if (gpu)
            std::printf("| %s | dModel %d, nLayers %d, dState %d, expand 2, dConv 4 | %lld | %s | %.0f | %.1f |\n", s.name, s.dModel,
                        s.nLayers, s.dState, c.parameterCount(), name.c_str(), rate[0], msPerStep);
        else
            std::printf("| %s | dModel %d, nLayers %d, dState %d, expand 2, dConv 4 | %lld | %.0f | %.0f | %.0f |\n", s.name, s.dModel,
                        s.nLayers, s.dState, c.parameterCount(), rate[0], cpuRate, rate[1]);
        std::fflush(stdout);
    }
    return 0;
}
