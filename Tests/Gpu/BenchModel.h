#pragma once
// The benchmark's cost model: fewest bytes each kernel must move through device memory, its FP32
// FLOPs (an FMA counts 2) and its expf calls, per sample, summed over the layers; the floors these
// imply from the measured ceilings; and the achieved fraction (binding floor / measured time).
#include "CudaBackend.h"
#include "DeviceProbe.h"
#include "Model/Config.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace mfx::bench {

struct Cost {
    double bytes = 0, flops = 0, expf = 0; // per sample, all layers
};

// Chunked pipeline. L = chunk length (carries are per chunk).
inline Cost costLocalScan(const Config& c, double L) {
    const double M = c.dModel, I = c.dInner(), N = c.dState, R = c.dtRank, K = c.dConv;
    Cost k;
    for (int l = 0; l < c.nLayers; ++l) {
        k.bytes += (l == 0 ? 4.0 * (1 + c.nCond) : 4.0 * M) + 4.0 * I * (N + 1) / L;
        k.flops += (l == 0 ? 2 * M * (1 + c.nCond) : 0) + 2 * M + 2 * I * M + 2 * I * K + 2 * I * (R + N) + 2 * I * R +
                   4 * I * N + 5 * I;
        k.expf += I * N + 3 * I; // scan, SiLU(conv), softplus (exp + log1p)
    }
    return k;
}
inline Cost costCarryScan(const Config& c, double L) {
    const double I = c.dInner(), N = c.dState;
    return Cost{c.nLayers * (4.0 * I + 8.0 * I * N) / L, c.nLayers * 3.0 * I * N / L, c.nLayers * I * N / L};
}
inline Cost costFinish(const Config& c, double L) {
    const double M = c.dModel, I = c.dInner(), N = c.dState, R = c.dtRank, K = c.dConv;
    Cost k;
    for (int l = 0; l < c.nLayers; ++l) {
        const bool first = l == 0, last = l == c.nLayers - 1;
        k.bytes += (first ? 4.0 * (1 + c.nCond) : 4.0 * M) + (last ? 4.0 + (first ? 0.0 : 4.0) : 4.0 * M) + 4.0 * I * N / L;
        k.flops += (first ? 2 * M * (1 + c.nCond) : 0) + 2 * M + 4 * I * M + 2 * I * K + 2 * I * (R + 2 * N) + 2 * I * R +
                   6 * I * N + 4 * I + 2 * M * I + M + (last ? 4 * M : 0);
        k.expf += I * N + 4 * I; // scan, SiLU(conv), SiLU(z), softplus
    }
    return k;
}
// Baseline pipeline: activations (xc, SiLU(z), dt: dInner each; B, C: dState each) and y go through memory.
inline Cost costMaterialize(const Config& c) {
    Cost k = costFinish(c, 1e30);
    const double M = c.dModel, I = c.dInner(), N = c.dState;
    k.bytes = 0;
    for (int l = 0; l < c.nLayers; ++l) k.bytes += (l == 0 ? 4.0 * (1 + c.nCond) : 4.0 * M) + 4.0 * (3 * I + 2 * N);
    k.flops -= c.nLayers * (6 * I * N + 2 * M * I);
    k.expf -= c.nLayers * I * N;
    return k;
}
inline Cost costBaselineScan(const Config& c) {
    const double I = c.dInner(), N = c.dState;
    return Cost{c.nLayers * 4.0 * (3 * I + 2 * N + I), c.nLayers * (6 * I * N + 3 * I), c.nLayers * I * N};
}
inline Cost costFromY(const Config& c) {
    const double M = c.dModel, I = c.dInner();
    Cost k;
    for (int l = 0; l < c.nLayers; ++l) {
        const bool first = l == 0, last = l == c.nLayers - 1;
        k.bytes += (first ? 4.0 : 4.0 * M) + 4.0 * I + (last ? 4.0 : 4.0 * M);
        k.flops += 2 * M * I + M + (last ? 4 * M : 0);
    }
    return k;
}

inline std::string kernelTableHeader() {
    return "| kernel | measured | bytes | FLOP | expf | floor: memory / FP32 / expf | binding | achieved |\n"
           "|---|---|---|---|---|---|---|---|";
}

inline std::string kernelRow(const char* name, double ms, const Cost& k, double samples, const cuda::DeviceCeilings& ceil) {
    const double bytes = k.bytes * samples, flops = k.flops * samples, ex = k.expf * samples;
    const double fm = bytes / (ceil.copyGBs * 1e9) * 1e3, ff = flops / (ceil.fp32Tflops * 1e12) * 1e3,
                 fe = ex / (ceil.expfGops * 1e9) * 1e3;
    const double floor = std::max({fm, ff, fe});
    const char* binding = floor == fm ? "memory" : (floor == ff ? "FP32" : "expf");
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "| %s | %.2f ms | %.2f GB | %.1f GFLOP | %.1f G | %.2f / %.2f / %.2f ms | %s | %.0f%% |", name, ms,
                  bytes / 1e9, flops / 1e9, ex / 1e9, fm, ff, fe, binding, ms > 0 ? 100.0 * floor / ms : 0.0);
    return buf;
}

inline std::vector<std::string> kernelRows(const Config& c, double samples, const cuda::KernelTimes& t,
                                           const cuda::DeviceCeilings& ceil, double chunkLen) {
    std::vector<std::string> rows;
    if (t.localScan > 0) {
        rows.push_back(kernelRow("A local scan", t.localScan, costLocalScan(c, chunkLen), samples, ceil));
        rows.push_back(kernelRow("B carry scan", t.carryScan, costCarryScan(c, chunkLen), samples, ceil));
        rows.push_back(kernelRow("C finish (fused)", t.finish, costFinish(c, chunkLen), samples, ceil));
        Cost all = costLocalScan(c, chunkLen), b = costCarryScan(c, chunkLen), f = costFinish(c, chunkLen);
        all.bytes += b.bytes + f.bytes;
        all.flops += b.flops + f.flops;
        all.expf += b.expf + f.expf;
        rows.push_back(kernelRow("all (chunked)", t.localScan + t.carryScan + t.finish, all, samples, ceil));
    }
    if (t.baselineScan > 0) {
        rows.push_back(kernelRow("baseline: materialize", t.materialize, costMaterialize(c), samples, ceil));
        rows.push_back(kernelRow("baseline: sequential scan", t.baselineScan, costBaselineScan(c), samples, ceil));
        rows.push_back(kernelRow("baseline: out_proj from y", t.finishFromY, costFromY(c), samples, ceil));
    }
    return rows;
}

} // namespace mfx::bench
