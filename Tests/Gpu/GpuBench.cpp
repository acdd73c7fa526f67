// mfx_gpu_bench: throughput of the CUDA backend (issue 3's list), side by side with the one-warp-per-
// channel baseline and the CPU offline path, plus per-kernel bytes/FLOPs against measured floors.
//
//   mfx_gpu_bench [--out FILE] [--sizes 16,32,64]
//   mfx_gpu_bench [--out FILE] --model FILE ...   the same tables for trained models (e.g. the default)
//   mfx_gpu_bench --variants        1 h mono at the reference size under each tile / chunk-wave variant
//   mfx_gpu_bench --once SECONDS    one render of SECONDS of mono at the reference size (for ncu)
//
// Models: nLayers 2, dState 16, expand 2, dConv 4, dtRank ceil(dModel/16), random "trained-like"
// weights (scale 2). Inputs: a synthetic music-like signal (never zeros). GPU times are wall-clock
// around device-resident rendering (input and output already on the GPU; launches included), median
// of several runs after a warm-up; "host e2e" also includes copies from and to pageable host memory.
#include "BenchModel.h"
#include "CudaBackend.h"
#include "DeviceProbe.h"
#include "Engine/OfflineRenderer.h"
#include "Model/ModelError.h"
#include "Model/ModelFile.h"
#include "Model/RandomModel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace mfx;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kRate = 48000.0;

std::vector<float> musicLike(std::size_t n, std::uint64_t seed) {
    std::vector<float> x(n);
    std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    const double f1 = 110.0 * (1 + seed % 7), f2 = 1234.5 + 17.0 * static_cast<double>(seed % 11);
    for (std::size_t t = 0; t < n; ++t) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        const double noise = (static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5) * 0.2;
        const double ph = static_cast<double>(t) / kRate;
        const double env = 0.6 + 0.4 * std::sin(2 * M_PI * 0.5 * ph);
        x[t] = static_cast<float>(env * (0.5 * std::sin(2 * M_PI * f1 * ph) + 0.2 * std::sin(2 * M_PI * f2 * ph)) + noise);
    }
    return x;
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

template <class F>
double median(int reps, F&& f) {
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const auto a = Clock::now();
        f();
        t.push_back(seconds(a, Clock::now()));
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

struct DeviceSignal { // count streams of n samples on the GPU, stride n
    float* in = nullptr;
    float* out = nullptr;
    std::size_t n = 0;
    int count = 0;
    DeviceSignal(const std::vector<float>& host, std::size_t n_, int count_) : n(n_), count(count_) {
        in = cuda::CudaBackend::deviceAlloc(n * static_cast<std::size_t>(count));
        out = cuda::CudaBackend::deviceAlloc(n * static_cast<std::size_t>(count));
        for (int s = 0; s < count; ++s) // stream s: the host signal from offset s * 7919 (wrapping)
            for (std::size_t t0 = 0; t0 < n;) {
                const std::size_t from = (static_cast<std::size_t>(s) * 7919 + t0) % host.size();
                const std::size_t len = std::min(n - t0, host.size() - from);
                cuda::CudaBackend::copyToDevice(in + static_cast<std::size_t>(s) * n + t0, host.data() + from, len);
                t0 += len;
            }
    }
    ~DeviceSignal() {
        cuda::CudaBackend::deviceFree(in);
        cuda::CudaBackend::deviceFree(out);
    }
    DeviceSignal(const DeviceSignal&) = delete;
    DeviceSignal& operator=(const DeviceSignal&) = delete;
};

// Median of `reps` runs after a warm-up; a first run over 2 s is taken as it is (device time is scarce).
double runDevice(cuda::CudaBackend& b, const DeviceSignal& d, int reps) {
    b.reset();
    b.processDevice(d.in, d.out, d.count, std::min<std::size_t>(d.n, 48000), d.n); // warm-up
    auto once = [&] {
        b.reset();
        b.processDevice(d.in, d.out, d.count, d.n, d.n);
    };
    const auto a = Clock::now();
    once();
    const double first = seconds(a, Clock::now());
    if (first > 2.0 || reps <= 1) return first;
    std::vector<double> t{first};
    for (int r = 1; r < reps; ++r) {
        const auto s = Clock::now();
        once();
        t.push_back(seconds(s, Clock::now()));
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

Model referenceModel(int dModel) {
    Config c;
    c.dModel = dModel;
    c.nLayers = 2;
    c.dState = 16;
    c.dConv = 4;
    c.expand = 2;
    c.dtRank = Config::defaultDtRank(dModel);
    InitOptions io;
    io.scale = 2.0;
    io.skip = 0.5;
    return randomModel(c, 1234, io);
}

// 1 h of mono through the reference size, per kernel-shape variant (fast math).
void variants(const std::vector<float>& host) {
    const Model model = referenceModel(16);
    const DeviceSignal d(host, host.size(), 1);
    std::printf("| tile | chunk waves | states/thread | prefetch | GPU time, 1 h mono | x real time |\n|---|---|---|---|---|---|\n");
    struct V { int tile, waves, npt; bool prefetch; };
    for (const V v : {V{64, 4, 0, true}, V{64, 4, 0, false}, V{32, 4, 0, true}, V{64, 2, 0, true}, V{64, 8, 0, true},
                      V{64, 4, 2, true}, V{64, 4, 8, true}, V{128, 4, 0, true}, V{64, 4, 0, true}}) {
        cuda::CudaOptions o;
        o.tile = v.tile;
        o.chunkWaves = v.waves;
        o.statesPerThread = v.npt;
        o.prefetch = v.prefetch;
        const std::string npt = v.npt ? std::to_string(v.npt) : "auto";
        try {
            cuda::CudaBackend b(0, o);
            b.prepare(model, 1);
            const double t = runDevice(b, d, 3);
            std::printf("| %d | %d | %s | %s | %.4f s | %.0f |\n", v.tile, v.waves, npt.c_str(), v.prefetch ? "on" : "off", t,
                        static_cast<double>(d.n) / kRate / t);
        } catch (const std::exception& e) {
            std::printf("| %d | %d | %s | %s | %s | - |\n", v.tile, v.waves, npt.c_str(), v.prefetch ? "on" : "off", e.what());
        }
        std::fflush(stdout);
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string outPath;
    std::vector<int> sizes = {16, 32, 64};
    std::vector<std::string> modelFiles; // --model: trained models instead of the random reference sizes
    bool runVariants = false;
    double onceSeconds = 0;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--out") && i + 1 < argc) outPath = argv[++i];
        else if (!std::strcmp(argv[i], "--variants")) runVariants = true;
        else if (!std::strcmp(argv[i], "--model") && i + 1 < argc) modelFiles.emplace_back(argv[++i]);
        else if (!std::strcmp(argv[i], "--once") && i + 1 < argc) onceSeconds = std::atof(argv[++i]);
        else if (!std::strcmp(argv[i], "--sizes") && i + 1 < argc) {
            sizes.clear();
            std::stringstream ss(argv[++i]);
            for (std::string t; std::getline(ss, t, ',');) sizes.push_back(std::stoi(t));
        } else {
            std::fprintf(stderr, "usage: mfx_gpu_bench [--out FILE] [--sizes 16,32,64] [--model FILE ...] | --variants | --once SECONDS\n");
            return 2;
        }
    }
    if (cudaDeviceCount() == 0) {
        std::printf("mfx_gpu_bench: no CUDA device; nothing to measure.\n");
        return 0;
    }
    if (runVariants || onceSeconds > 0) {
        try {
            if (runVariants) variants(musicLike(3600 * 48000, 1));
            else {
                const auto n = static_cast<std::size_t>(onceSeconds * kRate);
                const DeviceSignal d(musicLike(n, 1), n, 1);
                cuda::CudaBackend b(0);
                b.prepare(referenceModel(16), 1);
                b.processDevice(d.in, d.out, 1, d.n, d.n);
                std::printf("rendered %zu samples once\n", n);
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "mfx_gpu_bench: %s\n", e.what());
            return 1;
        }
        return 0;
    }
    std::ostringstream md;
    auto emit = [&](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        md << line << "\n";
    };
    try {
        const cuda::DeviceCeilings ceil = cuda::measureDeviceCeilings(0);
        emit("Device: " + ceil.name + ", " + std::to_string(ceil.smCount) + " SMs; CPU threads: " +
             std::to_string(std::thread::hardware_concurrency()));
        emit("Measured ceilings: copy " + fmt("%.0f", ceil.copyGBs) + " GB/s (read+write), FP32 " +
             fmt("%.1f", ceil.fp32Tflops) + " TFLOP/s, expf " + fmt("%.0f", ceil.expfGops) + " G/s");

        const std::size_t second = 48000, minute = 60 * second, hour = 3600 * second, threeMin = 3 * minute;
        const std::vector<float> host = musicLike(hour, 1);

        std::vector<Model> models;
        for (const std::string& f : modelFiles) models.push_back(loadModel(f));
        if (modelFiles.empty())
            for (const int dModel : sizes) models.push_back(referenceModel(dModel));
        for (const Model& model : models) {
            // The reference size (the targets) gets the 1-hour baseline and variants.
            const bool reference = modelFiles.empty() && model.config.dModel == 16;
            const Config& c = model.config;
            emit("");
            emit("### " + c.summary());
            emit("");
            emit("| workload | GPU time, accurate | samples/s | x real time | GPU time, fast math (default) | x real time | baseline (1 warp/channel) | speed-up | CPU offline | GPU/CPU |");
            emit("|---|---|---|---|---|---|---|---|---|---|");

            cuda::CudaOptions ao, fo;
            ao.fastMath = false;
            fo.fastMath = true;
            cuda::CudaBackend mono(0, ao), batch(0, ao), monoFast(0, fo), batchFast(0, fo);
            mono.prepare(model, 1);
            batch.prepare(model, 64);
            monoFast.prepare(model, 1);
            batchFast.prepare(model, 64);
            cuda::CudaOptions bo;
            bo.maxSamplesInFlight = 1u << 21; // the baseline materialises 5 activations per channel
            cuda::CudaBackend base(0, bo);
            base.prepare(model, 1);
            base.setPipeline(cuda::Pipeline::Baseline);

            struct Load { const char* name; std::size_t n; int count; int reps; bool baseline; bool cpu; };
            const Load loads[] = {{"1 s mono", second, 1, 11, true, true},
                                  {"1 min mono", minute, 1, 5, true, true},
                                  {"1 h mono", hour, 1, 3, reference, false},
                                  {"64 x 3 min", threeMin, 64, 3, false, false}};
            for (const Load& L : loads) {
                const DeviceSignal d(host, L.n, L.count);
                cuda::CudaBackend& gpu = L.count > 1 ? batch : mono;
                const double t = runDevice(gpu, d, L.reps);
                const double tf = runDevice(L.count > 1 ? batchFast : monoFast, d, L.reps);
                const double samples = static_cast<double>(L.n) * L.count;
                std::string baseCell = "-", speedCell = "-", cpuCell = "-", cpuSpeed = "-";
                if (L.baseline) {
                    const double tb = runDevice(base, d, L.n >= hour ? 1 : 3);
                    baseCell = fmt("%.3f s", tb);
                    speedCell = fmt("%.1fx", tb / t);
                }
                if (L.cpu) {
                    OfflineRenderer cpu(model, 1);
                    std::vector<float> out(L.n);
                    const double tc = median(L.n > second ? 1 : 3, [&] {
                        cpu.reset();
                        cpu.process(0, host.data(), out.data(), L.n);
                    });
                    cpuCell = fmt("%.3f s", tc) + fmt(" (%.0fx RT)", static_cast<double>(L.n) / kRate / tc);
                    cpuSpeed = fmt("%.0fx", tc / t);
                }
                emit(std::string("| ") + L.name + " | " + fmt("%.4f s", t) + " | " + fmt("%.3g", samples / t) + " | " +
                     fmt("%.0f", samples / kRate / t) + " | " + fmt("%.4f s", tf) + " | " +
                     fmt("%.0f", samples / kRate / tf) + " | " + baseCell + " | " + speedCell + " | " + cpuCell + " | " +
                     cpuSpeed + " |");
            }

            // Host end-to-end: pageable host memory in and out (copies included).
            {
                std::vector<float> out(hour);
                const float* ip = host.data();
                float* op = out.data();
                mono.reset();
                const auto a = Clock::now();
                mono.process(&ip, &op, 1, hour);
                const double t = seconds(a, Clock::now());
                emit(std::string("| 1 h mono, host e2e | ") + fmt("%.4f s", t) + " | " + fmt("%.3g", hour / t) + " | " +
                     fmt("%.0f", hour / kRate / t) + " | - | - | - | - | - | - |");
            }

            // Kernel variants on one mono file: math mode x SSM states per scan thread (0: automatic).
            {
                const std::size_t n = reference ? hour : minute;
                const DeviceSignal d(host, n, 1);
                emit("");
                emit(std::string("Variants, ") + (n == hour ? "1 h" : "1 min") + " mono:");
                emit("");
                emit("| math | states/thread | GPU time | x real time |");
                emit("|---|---|---|---|");
                struct V { bool fast; int npt; };
                for (const V v : {V{false, 0}, V{false, 2}, V{true, 0}, V{true, 2}, V{true, 8}}) {
                    cuda::CudaOptions o;
                    o.fastMath = v.fast;
                    o.statesPerThread = v.npt;
                    cuda::CudaBackend b(0, o);
                    try {
                        b.prepare(model, 1);
                    } catch (const ModelError&) {
                        continue; // that states/thread does not fit this shape
                    }
                    const double t = runDevice(b, d, 3);
                    emit(std::string("| ") + (v.fast ? "fast" : "accurate") + " | " + (v.npt ? std::to_string(v.npt) : "auto") +
                         " | " + fmt("%.4f s", t) + " | " + fmt("%.0f", static_cast<double>(n) / kRate / t) + " |");
                }
            }

            // Per kernel, profiled (an event pair and a sync around every launch): chunked on 1 h mono
            // (accurate and fast math), the baseline on 1 min mono.
            {
                const DeviceSignal d(host, hour, 1);
                for (const bool fast : {false, true}) {
                    cuda::CudaOptions po;
                    po.profile = true;
                    po.fastMath = fast;
                    cuda::CudaBackend prof(0, po);
                    prof.prepare(model, 1);
                    prof.processDevice(d.in, d.out, 1, d.n, d.n);
                    const int chunkLen = prof.chunkLength(static_cast<int>(std::min<std::size_t>(hour, prof.windowSamples())), 1);
                    emit("");
                    emit(std::string("Per kernel, 1 h mono, ") + (fast ? "fast" : "accurate") + " math, chunk length " +
                         std::to_string(chunkLen) + " (sum over layers and windows; floors from the measured ceilings):");
                    emit("");
                    emit(bench::kernelTableHeader());
                    for (const auto& row : bench::kernelRows(c, static_cast<double>(hour), prof.kernelTimes(), ceil, chunkLen))
                        emit(row);
                }
                cuda::CudaOptions po;
                po.profile = true;
                po.maxSamplesInFlight = 1u << 21;
                cuda::CudaBackend profBase(0, po);
                profBase.prepare(model, 1);
                profBase.setPipeline(cuda::Pipeline::Baseline);
                profBase.processDevice(d.in, d.out, 1, minute, d.n);
                emit("");
                emit("Baseline per kernel, 1 min mono:");
                emit("");
                emit(bench::kernelTableHeader());
                for (const auto& row : bench::kernelRows(c, static_cast<double>(minute), profBase.kernelTimes(), ceil, 1))
                    emit(row);
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mfx_gpu_bench: %s\n", e.what());
        return 1;
    }
    if (!outPath.empty()) {
        std::ofstream f(outPath);
        f << md.str();
    }
    return 0;
}
