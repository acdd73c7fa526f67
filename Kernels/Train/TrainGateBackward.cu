// Gating backward, one thread per (m, d), from gg = d/d(gated) and gated = yss * SiLU(z):
//   gz   = gg * yss * SiLU'(z)      -> gxz[m, dInner + d]
//   gyss = gg * SiLU(z)             -> gyss[m, d]
//   gxc  = gyss * D[d]              -> gxc[m, d]   (the skip path D x; the scan adds its part later)
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void gateBackwardKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int dI = d.dInner;
    const long long total = d.M * dI;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / dI;
        const int ch = static_cast<int>(idx - m * dI);
        const float gg = p.gGated[idx];
        const float z = p.xz[m * 2ll * dI + dI + ch];
        const float s = sigmoidf(z);
        p.gxz[m * 2ll * dI + dI + ch] = gg * p.yss[idx] * s * (1.0f + z * (1.0f - s));
        const float gy = gg * z * s;
        p.gyss[idx] = gy;
        p.gxc[idx] = gy * p.D[ch];
    }
}

} // namespace

void launchGateBackward(const LayerTrainParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    gateBackwardKernel<<<gridFor(p.dims.M * p.dims.dInner), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("gateBackwardKernel");
}

} // namespace mfx::cuda::train
