// RMSNorm forward, one thread per row m:
//   s_m = 1 / sqrt(mean_i r[m,i]^2 + 1e-5);   u[m,i] = r[m,i] * s_m * w[i];   rstd[m] = s_m
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void rmsNormForwardKernel(const __grid_constant__ RmsNormParams p) {
    const int dM = p.dims.dModel;
    for (long long m = globalIndex(); m < p.dims.M; m += globalStride()) {
        const float* x = p.r + m * dM;
        float ms = 0.0f;
        for (int i = 0; i < dM; ++i) ms += x[i] * x[i];
        const float s = 1.0f / sqrtf(ms / static_cast<float>(dM) + 1e-5f);
        p.rstd[m] = s;
        float* y = p.u + m * dM;
        for (int i = 0; i < dM; ++i) y[i] = x[i] * s * p.w[i];
    }
}

} // namespace

void launchRmsNormForward(const RmsNormParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    rmsNormForwardKernel<<<gridFor(p.dims.M), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("rmsNormForwardKernel");
}

} // namespace mfx::cuda::train
