// The baseline the benchmark measures against: the reference kernel's design (state-spaces/mamba
// csrc/selective_scan: one block per (batch, channel), time walked sequentially), over activations
// materialised in global memory by finishKernel<Materialize>. One warp per (stream s, channel d),
// lane = state n (and n + 32), walking the whole window step by step:
//
//   h_n <- exp(dt_t A[d][n]) h_n + dt_t B_t[n] x_t;   y_t = (sum_n C_t[n] h_n + D x_t) * SiLU(z_t)
//
// dt, x, SiLU(z) are read 32 steps at a time (one coalesced load, then shuffles); per-step partial sums
// go through shared memory and lane t reduces step t. The SSM state carries in `ssm` across windows.
#include "CudaCheck.h"
#include "Launch.h"

namespace mfx::cuda {

namespace {

__global__ void __launch_bounds__(32) baselineScanKernel(const __grid_constant__ LayerParams p) {
    __shared__ float part[32][33]; // (lane = state, step) partial sums C[n] h[n]
    const Shape& sh = p.sh;
    const int d = blockIdx.x, s = blockIdx.y, lane = threadIdx.x;
    const int N = sh.dState;
    const long long row = p.actStride;
    const float* dtr = p.bDt + (static_cast<long long>(s) * sh.dInner + d) * row;
    const float* xr = p.bX + (static_cast<long long>(s) * sh.dInner + d) * row;
    const float* zr = p.bZ + (static_cast<long long>(s) * sh.dInner + d) * row;
    float* yr = p.bY + (static_cast<long long>(s) * sh.dInner + d) * row;
    const float* Bs = p.bB + static_cast<long long>(s) * N * row;
    const float* Cs = p.bC + static_cast<long long>(s) * N * row;
    float* ssm = p.ssm + s * p.ssmStride + d * N;

    float h[2], A[2];
    bool has[2];
#pragma unroll
    for (int q = 0; q < 2; ++q) {
        const int n = lane + 32 * q;
        has[q] = n < N;
        A[q] = has[q] ? p.A[d * sh.nP + n] : 0.0f;
        h[q] = has[q] ? ssm[n] : 0.0f;
    }
    const float Dd = p.D[d];

    for (int t0 = 0; t0 < p.windowLen; t0 += 32) {
        const int t = t0 + lane;
        const bool valid = t < p.windowLen;
        const float dtv = valid ? dtr[t] : 0.0f, xv = valid ? xr[t] : 0.0f, zv = valid ? zr[t] : 0.0f;
        const int steps = min(32, p.windowLen - t0);
#pragma unroll 8
        for (int j = 0; j < 32; ++j) {
            const float dtj = __shfl_sync(0xffffffffu, dtv, j), xj = __shfl_sync(0xffffffffu, xv, j);
            if (j >= steps) break; // warp-uniform
            float yp = 0.0f;
#pragma unroll
            for (int q = 0; q < 2; ++q)
                if (has[q]) {
                    const long long o = static_cast<long long>(lane + 32 * q) * row + t0 + j;
                    h[q] = fmaf(expf(dtj * A[q]), h[q], dtj * xj * Bs[o]);
                    yp = fmaf(Cs[o], h[q], yp);
                }
            part[lane][j] = yp;
        }
        __syncwarp();
        float y = 0.0f;
        for (int n = 0; n < 32; ++n) y += part[n][lane];
        __syncwarp();
        if (valid) yr[t] = fmaf(Dd, xv, y) * zv;
    }
#pragma unroll
    for (int q = 0; q < 2; ++q)
        if (has[q]) ssm[lane + 32 * q] = h[q];
}

} // namespace

void launchBaselineScan(const LayerParams& p, cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(p.sh.dInner), static_cast<unsigned>(p.count));
    baselineScanKernel<<<grid, 32, 0, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("baselineScanKernel");
}

} // namespace mfx::cuda
