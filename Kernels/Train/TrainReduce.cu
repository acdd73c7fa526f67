// Parameter gradients as sums over every row of the batch (see ReduceParams):
//   grad[j] += scale[j] * sum_m f(m, j)
// Pass 1: one block per (chunk of chunkRows rows, 256 columns): float sum of the chunk -> partials.
// Pass 2: one thread per column: float64 sum of its partials in chunk order -> grad. Deterministic.
#include "../CudaCheck.h"
#include "TrainCommon.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

template <ReduceMode Mode>
__device__ __forceinline__ float term(const ReduceParams& p, long long m, int j) {
    const TrainDims& d = p.dims;
    if constexpr (Mode == ReduceMode::Gemm) {
        const int o = j / p.K, i = j - o * p.K;
        const float g = p.gY[m * p.ldy + o];
        return p.X ? g * p.X[m * p.ldx + i] : g;
    } else if constexpr (Mode == ReduceMode::Product) {
        float v = p.a[m * p.lda + j];
        if (p.b) v *= p.b[m * p.ldb + j];
        if (p.c) v *= p.c[m * p.ldc];
        return v;
    } else if constexpr (Mode == ReduceMode::ConvWeight) {
        const int K = d.dConv, ch = j / K, k = j - ch * K;
        const int t = static_cast<int>(m % d.L);
        const int back = K - 1 - k; // x at step t - back
        if (t < back) return 0.0f;
        return p.gxpre[m * d.dInner + ch] * p.xz[(m - back) * 2ll * d.dInner + ch];
    } else { // ScanA
        const int t = static_cast<int>(m % d.L);
        if (t == 0) return 0.0f; // h_{-1} = 0: every segment starts from zero state
        const int ch = j / d.dState;
        const float dtv = p.dt[m * d.dInner + ch];
        const float a = expf(dtv * p.A[j]);
        const long long row = static_cast<long long>(d.dInner) * d.dState;
        return p.G[m * row + j] * p.H[(m - 1) * row + j] * a * dtv;
    }
}

template <ReduceMode Mode>
__global__ void partialKernel(const __grid_constant__ ReduceParams p) {
    const int j = blockIdx.y * blockDim.x + threadIdx.x;
    if (j >= p.P) return;
    const long long m0 = blockIdx.x * p.chunkRows;
    const long long m1 = min(p.dims.M, m0 + p.chunkRows);
    float acc = 0.0f;
    for (long long m = m0; m < m1; ++m) acc += term<Mode>(p, m, j);
    p.partials[blockIdx.x * static_cast<long long>(p.P) + j] = acc;
}

__global__ void finishKernel(const __grid_constant__ ReduceParams p, int chunks) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= p.P) return;
    double s = 0.0;
    for (int c = 0; c < chunks; ++c) s += static_cast<double>(p.partials[c * static_cast<long long>(p.P) + j]);
    p.grad[j] += s * (p.scale ? static_cast<double>(p.scale[j]) : 1.0);
}

} // namespace

void launchTrainReduce(const ReduceParams& p, cudaStream_t stream) {
    if (p.P <= 0 || p.dims.M <= 0) return;
    const int chunks = static_cast<int>((p.dims.M + p.chunkRows - 1) / p.chunkRows);
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>((p.P + kBlock - 1) / kBlock));
    switch (p.mode) {
    case ReduceMode::Gemm: partialKernel<ReduceMode::Gemm><<<grid, kBlock, 0, stream>>>(p); break;
    case ReduceMode::Product: partialKernel<ReduceMode::Product><<<grid, kBlock, 0, stream>>>(p); break;
    case ReduceMode::ConvWeight: partialKernel<ReduceMode::ConvWeight><<<grid, kBlock, 0, stream>>>(p); break;
    case ReduceMode::ScanA: partialKernel<ReduceMode::ScanA><<<grid, kBlock, 0, stream>>>(p); break;
    }
    MFX_CUDA_CHECK_LAUNCH("partialKernel");
    finishKernel<<<(p.P + kBlock - 1) / kBlock, kBlock, 0, stream>>>(p, chunks);
    MFX_CUDA_CHECK_LAUNCH("finishKernel");
}

} // namespace mfx::cuda::train
