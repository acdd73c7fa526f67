// Kernel C of the time-parallel scan: one block per (chunk c, stream s). Recomputes the tile
// activations as kernel A did, then finishes the chunk from its true initial state (from kernel B):
//
//   xz_t = in_proj(RMSNorm(r_t));  xc_t = SiLU(conv1d(x)_t);  (dt, B, C)_t = x_proj(xc_t)
//   dt_t = softplus(dt_proj(dt_t) + bias)
//   h_t  = exp(dt_t A) h_{t-1} + dt_t B_t xc_t,   h_{t0-1} = chunkH[s][c]      (per channel d, state n)
//   y_t  = (C_t . h_t + D xc_t) * SiLU(z_t)
//   r_t <- r_t + out_proj(y_t)          -> rOut,  or in the last layer:
//   out_t = head(norm_f(r_t)) + skip * x_t
// The last chunk also writes the conv window at the window's end. Only r (dModel floats per step) is
// read and written per step: everything else stays in shared memory.
//
// The baseline pipeline (benchmark) splits this kernel around a sequential scan:
//   Materialize: everything up to dt, then xc, SiLU(z), dt, B, C are written to global memory;
//   FromY:       y is read from global memory, then out_proj, residual and head as above.
#include "CudaCheck.h"
#include "Launch.h"
#include "ScanCore.cuh"

#include <string>

namespace mfx::cuda {

namespace {

// Writes the tile's valid steps: r to rOut, or the model output in the last layer.
//   out_t = headBias + (1/sqrt(mean r^2 + eps)) * sum_j (head.w * norm_f.w)[j] r[j] + skip * x_t
__device__ inline void writeTile(const LayerParams& p, const Tile& T, int s, int tt0, int tl) {
    const Shape& sh = p.sh;
    if (p.isLast) {
        for (int t = threadIdx.x; t < tl; t += blockDim.x) {
            float ms = 0.0f, acc = 0.0f;
            for (int j = 0; j < sh.dModel; ++j) {
                const float r = T.rT[j * sh.ts + t];
                ms = fmaf(r, r, ms);
                acc = fmaf(p.headW[j], r, acc);
            }
            const float f = 1.0f / sqrtf(ms / static_cast<float>(sh.dModel) + 1.0e-5f);
            p.out[s * p.inStride + tt0 + t] = fmaf(p.skip, T.xin[t], fmaf(acc, f, p.headBias));
        }
    } else {
        const Lane L = laneOf(sh);
        if (L.t < tl) {
            float* ro = p.rOut + static_cast<long long>(s) * sh.dMpad * p.resStride + tt0 + L.t;
            for (int j = L.r0; j < sh.dModel; j += L.rstep) ro[static_cast<long long>(j) * p.resStride] = T.rT[j * sh.ts + L.t];
        }
    }
}

// Baseline: xc, SiLU(z), dt -> (count, dInner, actStride); B, C -> (count, dState, actStride).
__device__ inline void materializeTile(const LayerParams& p, const Tile& T, int s, int tt0, int tl) {
    const Shape& sh = p.sh;
    for (int i = threadIdx.x; i < sh.dInner * sh.tile; i += blockDim.x) {
        const int d = i / sh.tile, t = i - d * sh.tile;
        if (t >= tl) continue;
        const long long o = (static_cast<long long>(s) * sh.dInner + d) * p.actStride + tt0 + t;
        p.bX[o] = T.xc[d * sh.ts + t];
        p.bZ[o] = T.z[d * sh.ts + t];
        p.bDt[o] = T.dt[d * sh.ts + t];
    }
    for (int i = threadIdx.x; i < sh.dState * sh.tile; i += blockDim.x) {
        const int n = i / sh.tile, t = i - n * sh.tile;
        if (t >= tl) continue;
        const long long o = (static_cast<long long>(s) * sh.dState + n) * p.actStride + tt0 + t;
        p.bB[o] = T.dbc[(sh.rPad + n) * sh.ts + t];
        p.bC[o] = T.dbc[(sh.rPad + sh.nP + n) * sh.ts + t];
    }
}

template <int NPT, FinishMode MODE, bool FAST>
__global__ void __launch_bounds__(kThreads, minBlocksFor(NPT)) finishKernel(const __grid_constant__ LayerParams p) {
    extern __shared__ float4 smem4[];
    const Shape& sh = p.sh;
    const Tile T = makeTile(reinterpret_cast<float*>(smem4), sh, true, p.poisonSmem != 0);
    const int c = blockIdx.x, s = blockIdx.y;
    const int t0 = c * p.chunkLen, tEnd = min(t0 + p.chunkLen, p.windowLen);
    float* convOut = (c == p.numChunks - 1 && sh.dConv > 1) ? p.convOut + s * p.convStride : nullptr;

    const ScanRole role = scanRole(sh);
    float h[NPT], A[NPT];
    float Dd = 0.0f;
    if (MODE == FinishMode::Fused) {
        loadA<NPT, FAST>(p, role, A);
        const float* H = p.chunkH + ((static_cast<long long>(s) * p.numChunks + c) * sh.dInner + role.d) * sh.dState;
#pragma unroll
        for (int i = 0; i < NPT; ++i) {
            const int n = role.g * NPT + i;
            h[i] = n < sh.dState ? H[n] : 0.0f;
        }
        Dd = p.D[role.d];
    }

    if (MODE != FinishMode::FromY) chunkHalo(p, T, s, t0);
    const bool prefetch = MODE == FinishMode::Fused && canPrefetch(p);
    TileInputs next;
    if (prefetch) fetchTile(p, s, t0, min(sh.tile, tEnd - t0), next);
    for (int tt0 = t0; tt0 < tEnd; tt0 += sh.tile) {
        const int tl = min(sh.tile, tEnd - tt0);
        if (prefetch) storeTile(p, T, s, tt0, tl, next);
        else loadTile(p, T, s, tt0, tl);
        if (MODE == FinishMode::FromY) {
            for (int i = threadIdx.x; i < sh.dInner * sh.tile; i += blockDim.x) {
                const int d = i / sh.tile, t = i - d * sh.tile;
                T.y[d * sh.ts + t] = t < tl ? p.bY[(static_cast<long long>(s) * sh.dInner + d) * p.actStride + tt0 + t] : 0.0f;
            }
        }
        __syncthreads();
        if (MODE != FinishMode::FromY) {
            normScale(sh, T.rT, T.s, sh.tile, sh.ts);
            __syncthreads();
            // (x, z) = in_proj(RMSNorm(r))
            blockMatmul<Epi::StoreScaled>(p.inProjT, 2 * sh.dIpad, sh.dModel, 2 * sh.dIpad, T.rT, sh.ts, sh.tile,
                                          T.xp + sh.ho, sh.xs, sh.dIpad, T.z, sh.ts, T.s);
            __syncthreads();
            convSilu<FAST>(p, T);
            __syncthreads();
            shiftHalo(p, T, tl, tt0 + sh.tile >= tEnd ? convOut : nullptr);
            // (dt_low, B, C) = x_proj(xc)
            blockMatmul<Epi::Store>(p.xProjT, sh.xRows, sh.dInner, sh.xRows, T.xc, sh.ts, sh.tile, T.dbc, sh.ts,
                                    sh.xRows, nullptr, 0, nullptr);
            __syncthreads();
            dtSoftplus<FAST>(p, T, tl, true);
            __syncthreads();
            if (MODE == FinishMode::Materialize) {
                materializeTile(p, T, s, tt0, tl);
                continue; // the next tile's first __syncthreads() orders these reads before any rewrite
            }
            // the next tile's inputs load while this tile's scan runs
            if (prefetch && tt0 + sh.tile < tEnd)
                fetchTile(p, s, tt0 + sh.tile, min(sh.tile, tEnd - tt0 - sh.tile), next);
            if (role.inScan) scanTileFinish<NPT, FAST>(sh, T, role, h, A, Dd);
            __syncthreads();
        }
        // r <- r + out_proj(y)
        blockMatmul<Epi::Add>(p.outProjT, sh.dMpad, sh.dInner, sh.dMpad, T.y, sh.ts, sh.tile, T.rT, sh.ts,
                              sh.dMpad, nullptr, 0, nullptr);
        __syncthreads();
        writeTile(p, T, s, tt0, tl);
        __syncthreads();
    }
}

template <int NPT, FinishMode MODE, bool FAST = false>
void launchOne(const LayerParams& p, cudaStream_t stream) {
    const int smem = smemBytes(p.sh, true);
    const dim3 grid(static_cast<unsigned>(p.numChunks), static_cast<unsigned>(p.count));
    MFX_CUDA_CHECK(cudaFuncSetAttribute(finishKernel<NPT, MODE, FAST>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    finishKernel<NPT, MODE, FAST><<<grid, kThreads, smem, stream>>>(p);
    MFX_CUDA_CHECK_LAUNCH("finishKernel");
}

} // namespace

void launchFinish(const LayerParams& p, FinishMode mode, cudaStream_t stream) {
    switch (mode) {
    case FinishMode::Fused:
        if (p.fastMath) MFX_DISPATCH_NPT(p.sh.npt, (launchOne<NPT, FinishMode::Fused, true>(p, stream)))
        else MFX_DISPATCH_NPT(p.sh.npt, (launchOne<NPT, FinishMode::Fused, false>(p, stream)))
        break;
    case FinishMode::Materialize: launchOne<1, FinishMode::Materialize>(p, stream); break;
    case FinishMode::FromY: launchOne<1, FinishMode::FromY>(p, stream); break;
    }
}

} // namespace mfx::cuda
