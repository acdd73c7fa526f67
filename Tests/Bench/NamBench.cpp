// mfx_nam_bench: the cost of a NAM "standard" WaveNet (re-implemented, NamWaveNet.h) and of a MambaFX
// model in the real-time engine, measured side by side on this machine, so the Capture issue's budget
// ("at most a third of the amp's own NAM WaveNet") can be checked wherever the benchmark runs instead of
// against a figure from another machine.
//
//   mfx_nam_bench [--model FILE] [--seconds S] [--repeat N]        (NAM built for baseline x86-64)
//   mfx_nam_bench_avx2 ...                                          (NAM built with AVX2 + FMA)
//
// Prints, per block size, thread CPU time per sample (the fastest of N interleaved rounds; the median
// beside it), x real time at 48 kHz, and MambaFX's cost as a fraction of NAM's.
#include "NamWaveNet.h"

#include "Engine/RealtimeEngine.h"
#include "Model/ModelFile.h"

#include <common/MachineInfo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include <sys/utsname.h>

namespace {

// ns per sample for `run` over `in` in blocks of `block`
double nsPerSample(const std::function<void(const float*, float*, int)>& run, const std::vector<float>& in, std::vector<float>& out,
                   int block) {
    const int n = static_cast<int>(in.size());
    const double t0 = mfx::apps::cpuSeconds(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < n; i += block) run(in.data() + i, out.data() + i, std::min(block, n - i));
    return (mfx::apps::cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e9 / n;
}

} // namespace

int main(int argc, char** argv) {
    // first: before any code that the linker may have taken from the AVX2 object runs
    if (!mfx::bench::namBuildRunsHere()) {
        std::fprintf(stderr, "mfx_nam_bench: this CPU lacks the instructions of the NAM %s; run mfx_nam_bench instead\n",
                     mfx::bench::kNamBuildName);
        return 1;
    }
    std::string modelPath = std::string(MFX_SOURCE_DIR) + "/Resources/Models/default.safetensors";
    double seconds = 2.0;
    int repeat = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
            return argv[++i];
        };
        if (a == "--model") modelPath = next();
        else if (a == "--seconds") seconds = std::atof(next().c_str());
        else if (a == "--repeat") repeat = std::atoi(next().c_str());
        else { std::fprintf(stderr, "usage: mfx_nam_bench [--model FILE] [--seconds S] [--repeat N]\n"); return 2; }
    }
    if (!(seconds > 0.0 && seconds <= 600.0) || repeat < 1 || repeat > 100) {
        std::fprintf(stderr, "mfx_nam_bench: --seconds must be in (0, 600] and --repeat in 1..100\n");
        return 2;
    }
    mfx::Model model;
    try {
        model = mfx::loadModel(modelPath);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mfx_nam_bench: %s\n", e.what());
        return 1;
    }
    const mfx::bench::NamWeights namW = mfx::bench::randomNamWeights(mfx::bench::namStandard(), 1);
    const std::vector<int> blocks{64, 512, 4096};
    const int maxBlock = 4096;
    auto nam = mfx::bench::makeNamBlock(namW, maxBlock);
    mfx::RealtimeEngine engine(model, 1);

    // guitar-like test signal: decaying plucks at -20 dBFS RMS or so (costs do not depend on it)
    const int n = static_cast<int>(seconds * 48000.0);
    std::vector<float> in(static_cast<std::size_t>(n)), out(in.size());
    std::uint32_t lcg = 12345u;
    for (int t = 0; t < n; ++t) {
        lcg = lcg * 1664525u + 1013904223u;
        const double noise = (static_cast<double>(lcg >> 8) / 16777216.0 - 0.5);
        const double env = std::exp(-static_cast<double>(t % 24000) / 6000.0);
        in[static_cast<std::size_t>(t)] = static_cast<float>(0.3 * env * (std::sin(0.0128 * t) + 0.3 * noise));
    }

    struct Row { std::string name; std::function<void(const float*, float*, int)> run; std::function<void()> reset; };
    std::vector<Row> rows;
    rows.push_back({"MambaFX (" + model.config.summary() + ")", [&](const float* i, float* o, int m) { engine.process(i, o, m); },
                    [&] { engine.reset(); }});
    rows.push_back({std::string("NAM standard WaveNet, ") + mfx::bench::kNamBuildName,
                    [&](const float* i, float* o, int m) { nam->process(i, o, m); }, [&] { nam->reset(); }});

    utsname u{};
    uname(&u);
    std::printf("mfx_nam_bench: %s (%s), one thread; %.1f s of audio per measurement, fastest of %d interleaved rounds (median beside)\n",
                mfx::apps::cpuName().c_str(), u.machine, seconds, repeat);
    std::printf("NAM standard WaveNet: %d parameters (re-implemented, Tests/Bench/NamWaveNet.h), %s\n", namW.parameterCount(),
                mfx::bench::kNamBuildName);
    for (int block : blocks) {
        std::vector<std::vector<double>> t(rows.size());
        for (auto& r : rows) { r.reset(); nsPerSample(r.run, in, out, block); } // warm-up pass
        for (int k = 0; k < repeat; ++k)
            for (std::size_t r = 0; r < rows.size(); ++r) {
                rows[r].reset();
                t[r].push_back(nsPerSample(rows[r].run, in, out, block));
            }
        std::printf("block %4d:\n", block);
        std::vector<double> best(rows.size());
        for (std::size_t r = 0; r < rows.size(); ++r) {
            std::vector<double> s = t[r];
            std::sort(s.begin(), s.end());
            best[r] = s.front();
            std::printf("  %-62s %8.1f ns/sample %7.1fx real time (median %.1f)\n", rows[r].name.c_str(), s.front(), 1e9 / 48000.0 / s.front(),
                        s[s.size() / 2]);
        }
        std::printf("  MambaFX / NAM: %.2f (the Capture issue's budget: <= 0.33 of a plain build)\n", best[0] / best[1]);
    }
    return 0;
}
