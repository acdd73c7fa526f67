// dt_proj and softplus, one thread per (m, d):
//   dtLin[m,d] = dtBias[d] + sum_q xdb[m,q] * dtWeight[d,q]      (q < dtRank: the dt columns of x_proj)
//   dt[m,d]    = dtLin > 20 ? dtLin : log(1 + exp(dtLin))
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void dtForwardKernel(const __grid_constant__ LayerTrainParams p) {
    const TrainDims& d = p.dims;
    const int dI = d.dInner, R = d.dtRank;
    const long long total = d.M * dI;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / dI;
        const int ch = static_cast<int>(idx - m * dI);
        float v = p.dtBias[ch];
        for (int q = 0; q < R; ++q) v += p.xdb[m * d.xProjOut + q] * p.dtWeight[ch * R + q];
        p.dtLin[idx] = v;
        p.dt[idx] = v > 20.0f ? v : log1pf(expf(v));
    }
}

} // namespace

void launchDtForward(const LayerTrainParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    dtForwardKernel<<<gridFor(p.dims.M * p.dims.dInner), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("dtForwardKernel");
}

} // namespace mfx::cuda::train
