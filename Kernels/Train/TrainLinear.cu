// Linear map over rows, forward or input gradient (see LinearParams):
//   out[m, j] = (accumulate ? out[m, j] : 0) + bias[j] + sum_k in[m, k] * W[j*wsJ + k*wsK]
// One thread per output element (m, j); K is at most a few hundred, the weights stay in L1.
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

__global__ void linearKernel(const __grid_constant__ LinearParams p) {
    const long long total = p.M * p.N;
    for (long long idx = globalIndex(); idx < total; idx += globalStride()) {
        const long long m = idx / p.N;
        const int j = static_cast<int>(idx - m * p.N);
        const float* x = p.in + m * p.ldi;
        const float* w = p.W + j * p.wsJ;
        float acc = p.bias ? p.bias[j] : 0.0f;
        for (int k = 0; k < p.K; ++k) acc = fmaf(x[k], w[k * p.wsK], acc);
        float* o = p.out + m * p.ldo + j;
        *o = p.accumulate ? *o + acc : acc;
    }
}

} // namespace

void launchTrainLinear(const LinearParams& p, cudaStream_t stream) {
    if (p.M <= 0 || p.N <= 0) return;
    linearKernel<<<gridFor(p.M * p.N), kBlock, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("linearKernel");
}

} // namespace mfx::cuda::train
