// Causal depthwise conv1d and SiLU, one thread per (m, d), no history before a segment's start:
//   xpre[m,d] = convBias[d] + sum_k convWeight[d,k] * x[t - (dConv-1) + k, d]   (x = xz[:, :dInner], 0 for t' < 0)
//   xc[m,d]   = xpre * sigmoid(xpre)
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void convForwardKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int dI = d.dInner, K = d.dConv;
    const long long total = d.M * dI;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / dI;
        const int ch = static_cast<int>(idx - m * dI);
        const int t = static_cast<int>(m % d.L);
        float acc = p.convBias[ch];
        for (int k = 0; k < K; ++k) {
            const int back = K - 1 - k;
            if (t >= back) acc += p.convWeight[ch * K + k] * p.xz[(m - back) * 2ll * dI + ch];
        }
        p.xpre[idx] = acc;
        p.xc[idx] = acc * sigmoidf(acc);
    }
}

} // namespace

void launchConvForward(const LayerTrainParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    convForwardKernel<<<gridFor(p.dims.M * p.dims.dInner), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("convForwardKernel");
}

} // namespace mfx::cuda::train
