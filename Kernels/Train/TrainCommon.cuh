#pragma once
// Device helpers shared by the training kernels: grid sizing for one thread per element, and the
// scalar functions of the model, written as the CPU tape writes them (Source/Train/TapeKernels.h).
#include "TrainParams.h"

#include <cuda_runtime.h>

namespace mfx::cuda::train {

inline constexpr int kBlock = 256;

// Blocks for one thread per element of `count` with a grid-stride loop.
inline unsigned gridFor(long long count, int block = kBlock) {
    long long b = (count + block - 1) / block;
    if (b < 1) b = 1;
    if (b > (1ll << 20)) b = 1ll << 20;
    return static_cast<unsigned>(b);
}

__device__ __forceinline__ long long globalIndex() { return blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; }
__device__ __forceinline__ long long globalStride() { return static_cast<long long>(gridDim.x) * blockDim.x; }

__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
// SiLU'(v) = s (1 + v (1 - s)),  s = sigmoid(v)
__device__ __forceinline__ float siluGrad(float v) {
    const float s = sigmoidf(v);
    return s * (1.0f + v * (1.0f - s));
}

// The scans' chunking (TrainScanForward.cu, TrainScanBackward.cu): scanChunk steps per chunk, clamped
// to [1, L] (0 or >= L: one chunk, the sequential scan), and the number of chunks per segment.
inline LayerTrainParams withScanChunk(LayerTrainParams p) {
    if (p.scanChunk <= 0 || p.scanChunk > p.dims.L) p.scanChunk = p.dims.L > 0 ? p.dims.L : 1;
    return p;
}
inline int scanChunks(const LayerTrainParams& p) { return (p.dims.L + p.scanChunk - 1) / p.scanChunk; }

// One lane of the chunked scans: idx = ((b * chunks + k) * dInner + ch) * dState + n, covering the
// steps [t0, t1) of segment b's chunk k (chunkLen steps, the last chunk may be shorter).
struct ScanLane {
    int n, ch, k;
    long long b, t0, t1;
};
__device__ __forceinline__ ScanLane scanLaneOf(const TrainDims& d, int chunks, int chunkLen, long long idx) {
    ScanLane l;
    l.n = static_cast<int>(idx % d.dState);
    l.ch = static_cast<int>((idx / d.dState) % d.dInner);
    const long long bk = idx / (static_cast<long long>(d.dState) * d.dInner);
    l.k = static_cast<int>(bk % chunks);
    l.b = bk / chunks;
    l.t0 = static_cast<long long>(l.k) * chunkLen;
    l.t1 = min(static_cast<long long>(d.L), l.t0 + chunkLen);
    return l;
}

} // namespace mfx::cuda::train
