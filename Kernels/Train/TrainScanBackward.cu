// The reverse-time scan, one thread per (segment b, channel d, state n), t from L-1 down to 0:
//   G_t = gh_{t+1} + C_t[n] gyss[m,d]       (total d(loss)/d h_t; gh_L = 0)
//   gh_t = G_t exp(dt_t A[d,n])             (what flows on to h_{t-1})
// G[m, d, n] = G_t is saved; every other scan gradient is a sum over it (TrainScanBackwardPost.cu,
// and the ScanA reduction for A).
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void scanBackwardKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int N = d.dState, dI = d.dInner;
    const long long lanes = static_cast<long long>(d.batch) * dI * N;
    for (long long idx = globalIndex(); idx < lanes; idx += globalStride()) {
        const int n = static_cast<int>(idx % N);
        const int ch = static_cast<int>((idx / N) % dI);
        const long long b = idx / (static_cast<long long>(N) * dI);
        const float An = p.A[ch * N + n];
        float gh = 0.0f;
        long long m = b * d.L + d.L - 1;
#pragma unroll 4
        for (int t = d.L - 1; t >= 0; --t, --m) {
            const float Cn = p.xdb[m * d.xProjOut + d.dtRank + N + n];
            const float g = gh + Cn * p.gyss[m * dI + ch];
            p.G[(m * dI + ch) * N + n] = g;
            gh = g * expf(p.dt[m * dI + ch] * An);
        }
    }
}

} // namespace

void launchScanBackward(const LayerTrainParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    const long long lanes = static_cast<long long>(p.dims.batch) * p.dims.dInner * p.dims.dState;
    scanBackwardKernel<<<gridFor(lanes, 128), 128, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("scanBackwardKernel");
}

} // namespace mfx::cuda::train
