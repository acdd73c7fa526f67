// conv1d + SiLU backward, two passes of one thread per (m, d):
//   gxpre[m,d] = gxc[m,d] * SiLU'(xpre[m,d])
//   gx[m,d]    = sum_k gxpre[m + (dConv-1) - k, d] * convWeight[d,k]   (rows of the same segment only) -> gxz[m, d]
// (The conv weight and bias gradients are reductions over gxpre, TrainReduce.cu.)
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void siluBackwardKernel(const __grid_constant__ LayerTrainParams p) {
    const long long total = p.dims.M * p.dims.dInner;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) p.gxpre[idx] = p.gxc[idx] * siluGrad(p.xpre[idx]);
}

__global__ void convInputGradKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int dI = d.dInner, K = d.dConv;
    const long long total = d.M * dI;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / dI;
        const int ch = static_cast<int>(idx - m * dI);
        const int t = static_cast<int>(m % d.L);
        float acc = 0.0f;
        for (int k = 0; k < K; ++k) {
            const int ahead = K - 1 - k; // x_t feeds tap k of the output at t + ahead
            if (t + ahead < d.L) acc += p.gxpre[(m + ahead) * dI + ch] * p.convWeight[ch * K + k];
        }
        p.gxz[m * 2ll * dI + ch] = acc;
    }
}

} // namespace

void launchConvBackward(const LayerTrainParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    const unsigned grid = gridFor(p.dims.M * p.dims.dInner);
    siluBackwardKernel<<<grid, kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("siluBackwardKernel");
    convInputGradKernel<<<grid, kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("convInputGradKernel");
}

} // namespace mfx::cuda::train
