// RMSNorm backward (input part), one thread per row m, with s = rstd[m] and g = gu[m, :]:
//   gr[m,i] += s g_i w_i - s^3 r[m,i] mean_j(g_j w_j r[m,j])
// (The weight gradient sum_m g_i r[m,i] s_m is a Product reduction, TrainReduce.cu.)
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void rmsNormBackwardKernel(const __grid_constant__ RmsNormParams p) {
    const int dM = p.dims.dModel;
    for (long long m = globalIndex(); m < p.dims.M; m += globalStride()) {
        const float* x = p.r + m * dM;
        const float* g = p.gu + m * dM;
        float* gx = p.gr + m * dM;
        const float s = p.rstd[m];
        float dot = 0.0f;
        for (int i = 0; i < dM; ++i) dot += g[i] * p.w[i] * x[i];
        const float k = s * s * s * dot / static_cast<float>(dM);
        for (int i = 0; i < dM; ++i) gx[i] += s * g[i] * p.w[i] - k * x[i];
    }
}

} // namespace

void launchRmsNormBackward(const RmsNormParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    rmsNormBackwardKernel<<<gridFor(p.dims.M), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("rmsNormBackwardKernel");
}

} // namespace mfx::cuda::train
