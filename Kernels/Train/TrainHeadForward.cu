// Output head, one thread per row m:  out[m] = headB + sum_i headW[i] f[m,i] + skip * feat[m, 0]
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void headForwardKernel(const __grid_constant__ HeadParams p) {
    const int dM = p.dims.dModel;
    for (long long m = globalIndex(); m < p.dims.M; m += globalStride()) {
        const float* f = p.f + m * dM;
        float y = p.headB[0];
        for (int i = 0; i < dM; ++i) y += p.headW[i] * f[i];
        p.out[m] = y + p.skip[0] * p.feat[m * p.dims.nFeat];
    }
}

} // namespace

void launchHeadForward(const HeadParams& p, cudaStream_t stream) {
    if (p.dims.M <= 0) return;
    headForwardKernel<<<gridFor(p.dims.M), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("headForwardKernel");
}

} // namespace mfx::cuda::train
