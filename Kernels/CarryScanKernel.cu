// Kernel B of the time-parallel scan: the scan over chunk carries, one thread per (stream, d, n).
//
//   a_c = exp(A[d][n] * chunkDt[s][c][d])           (= prod over the chunk of exp(dt_t A))
//   h_start(c) = h;   h <- a_c * h + chunkH[s][c][d][n]      for c = 0 .. numChunks-1, h = ssm[s][d][n]
// chunkH is overwritten with h_start(c) (kernel C finishes each chunk from it); ssm gets the final h,
// the state after the window. The chunk count per window is bounded (a few thousand), so each thread
// walks its chunks sequentially; carries are read in batches of 8 so the loads overlap.
#include "CudaCheck.h"
#include "Launch.h"

namespace mfx::cuda {

namespace {

constexpr int kCarryThreads = 128;
constexpr int kBatch = 8;

__global__ void __launch_bounds__(kCarryThreads) carryScanKernel(const __grid_constant__ LayerParams p) {
    const Shape& sh = p.sh;
    const int dn = sh.dInner * sh.dState;
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= static_cast<long long>(p.count) * dn) return;
    const int s = static_cast<int>(i / dn), k = static_cast<int>(i - static_cast<long long>(s) * dn);
    const int d = k / sh.dState, n = k - d * sh.dState;
    const float A = p.A[d * sh.nP + n];
    float* ssm = p.ssm + s * p.ssmStride + k;
    const float* __restrict__ S = p.chunkDt + static_cast<long long>(s) * p.numChunks * sh.dInner + d;
    float* __restrict__ H = p.chunkH + static_cast<long long>(s) * p.numChunks * dn + k;
    float h = *ssm;
    for (int c0 = 0; c0 < p.numChunks; c0 += kBatch) {
        float sv[kBatch], hv[kBatch];
#pragma unroll
        for (int b = 0; b < kBatch; ++b) {
            const int c = c0 + b;
            sv[b] = c < p.numChunks ? S[static_cast<long long>(c) * sh.dInner] : 0.0f;
            hv[b] = c < p.numChunks ? H[static_cast<long long>(c) * dn] : 0.0f;
        }
#pragma unroll
        for (int b = 0; b < kBatch; ++b) {
            const int c = c0 + b;
            if (c < p.numChunks) {
                H[static_cast<long long>(c) * dn] = h;
                h = fmaf(expf(A * sv[b]), h, hv[b]);
            }
        }
    }
    *ssm = h;
}

} // namespace

void launchCarryScan(const LayerParams& p, cudaStream_t stream) {
    const long long threads = static_cast<long long>(p.count) * p.sh.dInner * p.sh.dState;
    const unsigned blocks = static_cast<unsigned>((threads + kCarryThreads - 1) / kCarryThreads);
    carryScanKernel<<<blocks, kCarryThreads, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("carryScanKernel");
}

} // namespace mfx::cuda
