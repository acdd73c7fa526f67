// Scan output and gating, one thread per (m, d):
//   yss[m,d]   = sum_n C_t[n] H[m,d,n] + D[d] xc[m,d]        (C_t = xdb[m, dtRank + dState + n])
//   gated[m,d] = yss * z * sigmoid(z),  z = xz[m, dInner + d]
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void gateForwardKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int dI = d.dInner, N = d.dState;
    const long long total = d.M * dI;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / dI;
        const int ch = static_cast<int>(idx - m * dI);
        const float* C = p.xdb + m * d.xProjOut + d.dtRank + N;
        const float* h = p.H + idx * N;
        float acc = 0.0f;
        for (int n = 0; n < N; ++n) acc += C[n] * h[n];
        const float y = acc + p.D[ch] * p.xc[idx];
        p.yss[idx] = y;
        const float z = p.xz[m * 2ll * dI + dI + ch];
        p.gated[idx] = y * z * sigmoidf(z);
    }
}

} // namespace

void launchGateForward(const LayerTrainParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    gateForwardKernel<<<gridFor(p.dims.M * p.dims.dInner), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("gateForwardKernel");
}

} // namespace mfx::cuda::train
