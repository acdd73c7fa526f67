#pragma once
// The three passes of the training scans, time-parallel over chunks of each segment (shared by
// TrainScanForward.cu and TrainScanBackward.cu). For a linear recurrence v_t = a_t v_{t-1} + u_t per
// lane (forward in time for h, reverse for d loss/d h), with chunks of p.scanChunk steps:
//   pass 1, per (b, chunk k, d, n) but the last chunk in scan order:
//           end[k] = the chunk's scan from v = 0,   decay[k] = prod over the chunk of a_t
//   pass 2, per (b, d, n), the chunks in scan order: start[k] = v;  v = decay[k] v + end[k]   (v = 0
//           at the first; start[k] overwrites end[k])
//   pass 3, per (b, chunk k, d, n): the chunk's scan from start[k], saving every v_t.
// With one chunk only pass 3 runs, from 0: the sequential scan. Scan supplies
//   static constexpr bool kReverse;
//   __device__ static float local(const LayerTrainParams&, const ScanLane&, float* decay);  (pass 1)
//   __device__ static void save(const LayerTrainParams&, const ScanLane&, float start);     (pass 3)
#include "../CudaCheck.h"
#include "TrainCommon.cuh"

namespace mfx::cuda::train {

template <class Scan>
__global__ void chunkLocalKernel(const __grid_constant__ LayerTrainParams p, int chunks) {
    const TrainDims& d = p.dims;
    const long long lanes = static_cast<long long>(d.batch) * chunks * d.dInner * d.dState;
    const int lastInScanOrder = Scan::kReverse ? 0 : chunks - 1; // its end flows nowhere
    for (long long idx = globalIndex(); idx < lanes; idx += globalStride()) {
        const ScanLane l = scanLaneOf(d, chunks, p.scanChunk, idx);
        if (l.k == lastInScanOrder) continue;
        float decay = 1.0f;
        p.chunkEnd[idx] = Scan::local(p, l, &decay);
        p.chunkDecay[idx] = decay;
    }
}

template <class Scan>
__global__ void chunkCarryKernel(const __grid_constant__ LayerTrainParams p, int chunks) {
    const TrainDims& d = p.dims;
    const long long row = static_cast<long long>(d.dInner) * d.dState;
    const long long lanes = static_cast<long long>(d.batch) * row;
    for (long long idx = globalIndex(); idx < lanes; idx += globalStride()) {
        const long long b = idx / row, j = idx - b * row;
        float v = 0.0f;
        for (int i = 0; i < chunks; ++i) {
            const int k = Scan::kReverse ? chunks - 1 - i : i;
            const long long at = (b * chunks + k) * row + j;
            const bool last = i + 1 == chunks;
            const float end = last ? 0.0f : p.chunkEnd[at];
            const float decay = last ? 0.0f : p.chunkDecay[at];
            p.chunkEnd[at] = v;
            v = decay * v + end;
        }
    }
}

template <class Scan>
__global__ void chunkSaveKernel(const __grid_constant__ LayerTrainParams p, int chunks) {
    const TrainDims& d = p.dims;
    const long long lanes = static_cast<long long>(d.batch) * chunks * d.dInner * d.dState;
    for (long long idx = globalIndex(); idx < lanes; idx += globalStride()) {
        const ScanLane l = scanLaneOf(d, chunks, p.scanChunk, idx);
        Scan::save(p, l, chunks > 1 ? p.chunkEnd[idx] : 0.0f);
    }
}

template <class Scan>
void launchChunkedScan(const LayerTrainParams& params, cudaStream_t stream) {
    if (params.dims.M <= 0) return;
    const LayerTrainParams p = withScanChunk(params);
    const int chunks = scanChunks(p);
    const long long lanes = static_cast<long long>(p.dims.batch) * p.dims.dInner * p.dims.dState;
    if (chunks > 1) {
        chunkLocalKernel<Scan><<<gridFor(lanes * chunks, 128), 128, 0, stream>>>(p, chunks);
        MFX_CUDA_CHECK_LAUNCH("chunkLocalKernel (training scan, pass 1)");
        chunkCarryKernel<Scan><<<gridFor(lanes, 128), 128, 0, stream>>>(p, chunks);
        MFX_CUDA_CHECK_LAUNCH("chunkCarryKernel (training scan, pass 2)");
    }
    chunkSaveKernel<Scan><<<gridFor(lanes * chunks, 128), 128, 0, stream>>>(p, chunks);
    MFX_CUDA_CHECK_LAUNCH("chunkSaveKernel (training scan, pass 3)");
}

} // namespace mfx::cuda::train
