// The scan's input gradients from G (saved by TrainScanBackward.cu) and H, with a = exp(dt A[d,n]),
// h_{t-1} = H[m-1] (0 at a segment's first step), x = xc, B, C from xdb:
// per (m, d):  gdt  = sum_n G (h_{t-1} a A[d,n] + B[n] x)
//              gxc += dt sum_n G B[n]
//              gdtLin = gdt * (dtLin > 20 ? 1 : sigmoid(dtLin))          (softplus backward)
// per (m, n):  gB[n] = sum_d G[m,d,n] dt[m,d] x[m,d]  -> gxdb[m, dtRank + n]
//              gC[n] = sum_d gyss[m,d] H[m,d,n]       -> gxdb[m, dtRank + dState + n]
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void channelGradKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int dI = d.dInner, N = d.dState;
    const long long total = d.M * dI;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / dI;
        const int ch = static_cast<int>(idx - m * dI);
        const bool first = m % d.L == 0;
        const float dtv = p.dt[idx], x = p.xc[idx];
        const float* B = p.xdb + m * d.xProjOut + d.dtRank;
        const float* G = p.G + idx * N;
        const float* hp = first ? nullptr : p.H + (idx - dI) * N; // h_{t-1}: row m-1, same channel
        const float* A = p.A + ch * N;
        float sDt = 0.0f, sX = 0.0f;
        for (int n = 0; n < N; ++n) {
            const float g = G[n];
            const float a = expf(dtv * A[n]);
            const float h = first ? 0.0f : hp[n];
            sDt += g * h * a * A[n] + g * B[n] * x;
            sX += g * B[n];
        }
        p.gxc[idx] += sX * dtv;
        const float v = p.dtLin[idx];
        p.gdtLin[idx] = sDt * (v > 20.0f ? 1.0f : sigmoidf(v));
    }
}

__global__ void stateGradKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int dI = d.dInner, N = d.dState;
    const long long total = d.M * N;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / N;
        const int n = static_cast<int>(idx - m * N);
        float sB = 0.0f, sC = 0.0f;
        for (int ch = 0; ch < dI; ++ch) {
            const long long i = m * dI + ch;
            sB += p.G[i * N + n] * p.dt[i] * p.xc[i];
            sC += p.gyss[i] * p.H[i * N + n];
        }
        p.gxdb[m * d.xProjOut + d.dtRank + n] = sB;
        p.gxdb[m * d.xProjOut + d.dtRank + N + n] = sC;
    }
}

} // namespace

void launchScanBackwardPost(const LayerTrainParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    channelGradKernel<<<gridFor(p.dims.M * p.dims.dInner), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("channelGradKernel");
    stateGradKernel<<<gridFor(p.dims.M * p.dims.dState), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("stateGradKernel");
}

} // namespace mfx::cuda::train
