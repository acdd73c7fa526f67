#pragma once
// Device building blocks of the chunk kernels (A: LocalScanKernel.cu, C: FinishKernel.cu).
// A block owns one chunk of one stream and walks it in tiles of sh.tile steps. Every activation of the
// tile lives in shared memory as (rows, time), row stride sh.ts. Each step below is one pass over the
// tile by the whole block, separated by __syncthreads() in the kernels.
#include "LayerParams.h"

#include <cuda_runtime.h>

namespace mfx::cuda {

struct Tile {
    float* rT;  // (dMpad, ts)
    float* xp;  // (dIpad, xs)
    float* xc;  // (dIpad, ts)
    float* dbc; // (rows, ts)
    float* dt;  // (dIpad, ts)
    float* z;   // (dIpad, ts)
    float* y;   // (dIpad, ts)
    float* s;   // (ts)
    float* xin; // (ts)
    float* rh;  // (dMpad, kMaxConv)
    float* hs;  // (kMaxConv)
};

__device__ inline Tile makeTile(float* smem, const Shape& sh, bool finish, bool poison = false) {
    const SmemLayout L = smemLayout(sh, finish);
    if (poison) { // tests: every element a kernel reads must have been written first
        for (int i = threadIdx.x; i < L.total; i += blockDim.x) smem[i] = __int_as_float(0x7fc00000);
        __syncthreads();
    }
    return Tile{smem + L.rT, smem + L.xp, smem + L.xc, smem + L.dbc, smem + L.dt, smem + L.z,
                smem + L.y,  smem + L.s,  smem + L.xin, smem + L.rh, smem + L.hs};
}

// sanitizeSample (Engine/Sanitize.h): non-finite -> 0, clamp to +-1e4.
__device__ __forceinline__ float sanitize(float x) {
    if (!isfinite(x)) return 0.0f;
    return fminf(fmaxf(x, -1.0e4f), 1.0e4f);
}
// SiLU(x) = x / (1 + exp(-x))                      (FAST: __expf and a reciprocal-multiply division)
template <bool FAST = false>
__device__ __forceinline__ float silu(float x) {
    if (FAST) return __fdividef(x, 1.0f + __expf(-x));
    return x / (1.0f + expf(-x));
}
// F.softplus(x, threshold=20) = x > 20 ? x : log(1 + exp(x))   (log1p stays accurate: dt can be tiny)
template <bool FAST = false>
__device__ __forceinline__ float softplus(float x) { return x > 20.0f ? x : log1pf(FAST ? __expf(x) : expf(x)); }
// 2^x by the special-function unit (ex2.approx.ftz.f32: about 2 ulp).
__device__ __forceinline__ float ex2Approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

__device__ __forceinline__ float4 ld4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ void st4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }

__device__ __forceinline__ float inputSample(const LayerParams& p, int s, int t) {
    return sanitize(p.in[s * p.inStride + t]);
}

// Element-wise passes over a (rows, tile) buffer: thread tid takes step t = tid % tile and rows
// r0, r0 + rstep, ... (tile is a power of two dividing kThreads, so no divisions and t is fixed).
struct Lane {
    int t, r0, rstep;
};
__device__ __forceinline__ Lane laneOf(const Shape& sh) {
    const int tid = static_cast<int>(threadIdx.x);
    return Lane{tid & (sh.tile - 1), tid >> sh.tileShift, kThreads >> sh.tileShift};
}

// embedding([x_t, cond_t])[j] = embB[j] + embW[j] . [x_t, cond_t]   (cond: per step, or the held values)
__device__ inline float embedAt(const LayerParams& p, int s, int j, int t, float x) {
    const int nc = p.sh.nCond;
    const float* w = p.embW + j * (1 + nc);
    float acc = fmaf(__ldg(w), x, __ldg(p.embB + j));
    for (int c = 0; c < nc; ++c) {
        const float v = p.cond ? sanitize(p.cond[(s * p.inStride + t) * nc + c]) : p.heldCond[c];
        acc = fmaf(__ldg(w + 1 + c), v, acc);
    }
    return acc;
}

// r_t[j] of this layer's input. First layer: the embedding of the input, computed on the fly.
__device__ inline float residualAt(const LayerParams& p, int s, int j, int t) {
    if (p.isFirst) return embedAt(p, s, j, t, inputSample(p, s, t));
    return p.rIn[(static_cast<long long>(s) * p.sh.dMpad + j) * p.resStride + t];
}

// A tile's global-memory inputs held in registers: fetched before the previous tile's scan, so their
// latency hides behind it, and stored to shared memory at the tile's start. Used when they fit:
// layers > 0 with dMpad <= kPrefetchRows * rstep, layer 0 with held (not per-step) conditioning.
inline constexpr int kPrefetchRows = 8;
struct TileInputs {
    float r[kPrefetchRows]; // residual rows r0 + k * rstep at step t (layers > 0)
    float x;                // sanitised input sample at step t (first or last layer)
};
__device__ inline bool canPrefetch(const LayerParams& p) {
    if (!p.prefetch) return false;
    if (p.isFirst) return p.cond == nullptr;
    return p.sh.dMpad <= kPrefetchRows * (kThreads >> p.sh.tileShift);
}
__device__ inline void fetchTile(const LayerParams& p, int s, int t0, int tl, TileInputs& in) {
    const Shape& sh = p.sh;
    const Lane L = laneOf(sh);
    const bool valid = L.t < tl;
    in.x = (valid && (p.isFirst || p.isLast)) ? inputSample(p, s, t0 + L.t) : 0.0f;
    if (p.isFirst) return;
    const float* rs = p.rIn + static_cast<long long>(s) * sh.dMpad * p.resStride + t0 + L.t;
#pragma unroll
    for (int k = 0; k < kPrefetchRows; ++k) {
        const int j = L.r0 + k * L.rstep;
        in.r[k] = (valid && j < sh.dModel) ? rs[static_cast<long long>(j) * p.resStride] : 0.0f;
    }
}
// rT[j][t] = r_{t0+t}[j] (0 past tl or dModel); xin[t] = x_{t0+t} in the last layer.
__device__ inline void storeTile(const LayerParams& p, const Tile& T, int s, int t0, int tl, const TileInputs& in) {
    const Shape& sh = p.sh;
    const Lane L = laneOf(sh);
    const bool valid = L.t < tl;
    if (p.isFirst) {
        for (int j = L.r0; j < sh.dMpad; j += L.rstep)
            T.rT[j * sh.ts + L.t] = (valid && j < sh.dModel) ? embedAt(p, s, j, t0 + L.t, in.x) : 0.0f;
    } else {
#pragma unroll
        for (int k = 0; k < kPrefetchRows; ++k) {
            const int j = L.r0 + k * L.rstep;
            if (j < sh.dMpad) T.rT[j * sh.ts + L.t] = in.r[k];
        }
    }
    if (p.isLast && L.r0 == 0) T.xin[L.t] = in.x;
}

// The same without registers in between (any shape): rT and xin straight from global memory.
__device__ inline void loadTile(const LayerParams& p, const Tile& T, int s, int t0, int tl) {
    const Shape& sh = p.sh;
    const Lane L = laneOf(sh);
    const bool valid = L.t < tl;
    for (int j = L.r0; j < sh.dMpad; j += L.rstep)
        T.rT[j * sh.ts + L.t] = (valid && j < sh.dModel) ? residualAt(p, s, j, t0 + L.t) : 0.0f;
    if (p.isLast && L.r0 == 0) T.xin[L.t] = valid ? inputSample(p, s, t0 + L.t) : 0.0f;
}

// RMSNorm scale: s[t] = 1 / sqrt(mean_j r[j][t]^2 + 1e-5)   (the weight is folded into in_proj)
__device__ inline void normScale(const Shape& sh, const float* rT, float* s, int cols, int stride) {
    for (int t = threadIdx.x; t < cols; t += blockDim.x) {
        float ms = 0.0f;
        for (int j = 0; j < sh.dModel; ++j) ms = fmaf(rT[j * stride + t], rT[j * stride + t], ms);
        s[t] = 1.0f / sqrtf(ms / static_cast<float>(sh.dModel) + 1.0e-5f);
    }
}

enum class Epi { Store, StoreScaled, Add };

// out[m][t] (=, = scale[t] *, +=) sum_k W[m][k] in[k][t]   for m < M (multiple of 4), t < tile.
// W is transposed in global memory: WT[k][m], row length ldw (multiple of 4). Rows m >= splitRow go to
// outB (row m - splitRow). Each thread computes 4 rows x 4 steps: per k, one 16-byte weight load
// (L1-resident) and one 16-byte shared load feed 16 FMAs.
template <Epi E>
__device__ inline void blockMatmul(const float* __restrict__ WT, int ldw, int K, int M, const float* in, int ts,
                                   int tile, float* outA, int strideA, int splitRow, float* outB, int strideB,
                                   const float* scale) {
    const int T4 = tile / 4, M4 = M / 4, ldw4 = ldw / 4, t4Shift = __ffs(T4) - 1; // T4: a power of two
    for (int w = threadIdx.x; w < M4 * T4; w += blockDim.x) {
        const int mt = w >> t4Shift, tq = w & (T4 - 1);
        float acc[4][4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;
        const float4* wp = reinterpret_cast<const float4*>(WT) + mt;
        const float* ip = in + 4 * tq;
#pragma unroll 4
        for (int k = 0; k < K; ++k) {
            const float4 wv = __ldg(wp + static_cast<long long>(k) * ldw4);
            const float4 xv = ld4(ip + k * ts);
            const float wa[4] = {wv.x, wv.y, wv.z, wv.w}, xa[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(wa[i], xa[j], acc[i][j]);
        }
        const int m0 = 4 * mt;
        float* o;
        int st;
        if (m0 < splitRow) { o = outA + m0 * strideA; st = strideA; }
        else { o = outB + (m0 - splitRow) * strideB; st = strideB; }
        o += 4 * tq;
        float4 sc = make_float4(1.0f, 1.0f, 1.0f, 1.0f);
        if (E == Epi::StoreScaled) sc = ld4(scale + 4 * tq);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            float4 v = make_float4(acc[i][0] * sc.x, acc[i][1] * sc.y, acc[i][2] * sc.z, acc[i][3] * sc.w);
            if (E == Epi::Add) {
                const float4 old = ld4(o + i * st);
                v = make_float4(old.x + v.x, old.y + v.y, old.z + v.z, old.w + v.w);
            }
            st4(o + i * st, v);
        }
    }
}

// xc[d][t] = SiLU(convB[d] + sum_k convW[d][k] * x_{t-(dConv-1)+k}[d])   (newest sample on tap dConv-1)
// KC: dConv known at compile time (4, the shipped sizes), or 0.
template <bool FAST, int KC>
__device__ inline void convSiluK(const LayerParams& p, const Tile& T) {
    const Shape& sh = p.sh;
    const int K = KC ? KC : sh.dConv;
    const Lane L = laneOf(sh);
    for (int d = L.r0; d < sh.dInner; d += L.rstep) {
        const float* xr = T.xp + d * sh.xs + sh.ho - (K - 1) + L.t;
        const float* w = p.convW + d * K;
        float acc = __ldg(p.convB + d);
#pragma unroll
        for (int k = 0; k < K; ++k) acc = fmaf(__ldg(w + k), xr[k], acc);
        T.xc[d * sh.ts + L.t] = silu<FAST>(acc);
    }
}
template <bool FAST>
__device__ inline void convSilu(const LayerParams& p, const Tile& T) {
    if (p.sh.dConv == 4) convSiluK<FAST, 4>(p, T);
    else convSiluK<FAST, 0>(p, T);
}

// After the conv: the last dConv-1 x values of the tile (ending at step tl) become the halo of the next
// tile; at the window's end they are the new conv window (State layout (dInner, dConv-1), oldest first).
__device__ inline void shiftHalo(const LayerParams& p, const Tile& T, int tl, float* convOut) {
    const Shape& sh = p.sh;
    const int K1 = sh.dConv - 1;
    if (K1 == 0) return;
    for (int d = threadIdx.x; d < sh.dInner; d += blockDim.x) {
        float v[kMaxConv];
        float* row = T.xp + d * sh.xs + sh.ho - K1;
#pragma unroll
        for (int k = 0; k < kMaxConv - 1; ++k)
            if (k < K1) v[k] = row[tl + k];
#pragma unroll
        for (int k = 0; k < kMaxConv - 1; ++k)
            if (k < K1) {
                row[k] = v[k];
                if (convOut) convOut[d * K1 + k] = v[k];
            }
    }
}

// The dConv-1 x values before the chunk: from the carried conv window at the window start, else
// recomputed from the residual (RMSNorm + in_proj's x half) at those steps. Ends with __syncthreads().
__device__ inline void chunkHalo(const LayerParams& p, const Tile& T, int s, int t0) {
    const Shape& sh = p.sh;
    const int K1 = sh.dConv - 1;
    if (K1 == 0) return;
    if (t0 == 0) {
        const float* cw = p.convIn + s * p.convStride;
        for (int i = threadIdx.x; i < sh.dInner * K1; i += blockDim.x) {
            const int d = i / K1, k = i - d * K1;
            T.xp[d * sh.xs + sh.ho - K1 + k] = cw[i];
        }
    } else {
        for (int i = threadIdx.x; i < sh.dModel * K1; i += blockDim.x) {
            const int j = i / K1, k = i - j * K1;
            T.rh[j * kMaxConv + k] = residualAt(p, s, j, t0 - K1 + k);
        }
        __syncthreads();
        normScale(sh, T.rh, T.hs, K1, kMaxConv);
        __syncthreads();
        const int ldw = 2 * sh.dIpad;
        for (int i = threadIdx.x; i < sh.dInner * K1; i += blockDim.x) {
            const int d = i / K1, k = i - d * K1;
            float acc = 0.0f;
            for (int j = 0; j < sh.dModel; ++j) acc = fmaf(__ldg(p.inProjT + j * ldw + d), T.rh[j * kMaxConv + k], acc);
            T.xp[d * sh.xs + sh.ho - K1 + k] = acc * T.hs[k];
        }
    }
    __syncthreads();
}

// dt[d][t] = softplus(dtB[d] + sum_r dtW[d][r] dt_low[r][t]) for t < tl, else 0 (exp(0*A) = 1: a no-op
// step). With gateZ: z[d][t] = SiLU(z[d][t]). RC: dtRank known at compile time (1, 2, 4), or 0.
template <bool FAST, int RC>
__device__ inline void dtSoftplusR(const LayerParams& p, const Tile& T, int tl, bool gateZ) {
    const Shape& sh = p.sh;
    const int R = RC ? RC : sh.dtRank;
    const Lane L = laneOf(sh);
    const bool valid = L.t < tl;
    for (int d = L.r0; d < sh.dInner; d += L.rstep) {
        float v = 0.0f;
        if (valid) {
            float acc = __ldg(p.dtB + d);
#pragma unroll
            for (int r = 0; r < R; ++r) acc = fmaf(__ldg(p.dtW + d * R + r), T.dbc[r * sh.ts + L.t], acc);
            v = softplus<FAST>(acc);
        }
        T.dt[d * sh.ts + L.t] = v;
        if (gateZ) T.z[d * sh.ts + L.t] = silu<FAST>(T.z[d * sh.ts + L.t]);
    }
}
template <bool FAST>
__device__ inline void dtSoftplus(const LayerParams& p, const Tile& T, int tl, bool gateZ) {
    switch (p.sh.dtRank) {
    case 1: dtSoftplusR<FAST, 1>(p, T, tl, gateZ); break;
    case 2: dtSoftplusR<FAST, 2>(p, T, tl, gateZ); break;
    case 4: dtSoftplusR<FAST, 4>(p, T, tl, gateZ); break;
    default: dtSoftplusR<FAST, 0>(p, T, tl, gateZ); break;
    }
}

// The scan role of a thread: channel d, state group g (states g*NPT .. g*NPT+NPT-1 of the padded nP).
struct ScanRole {
    int d, g;
    bool inScan; // this thread's warp takes part in the scan
    bool active; // d is a real channel (lanes past dInner in the last warp compute on a copy and write nothing)
};

__device__ inline ScanRole scanRole(const Shape& sh) {
    ScanRole r;
    const int tid = threadIdx.x, G = sh.groups;
    const int used = roundUp(sh.dInner * G, 32);
    r.inScan = tid < used;
    r.active = tid / G < sh.dInner;
    r.d = min(tid / G, sh.dInner - 1);
    r.g = tid - (tid / G) * G;
    return r;
}

} // namespace mfx::cuda
