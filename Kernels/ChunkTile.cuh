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

__device__ inline Tile makeTile(float* smem, const Shape& sh, bool finish) {
    const SmemLayout L = smemLayout(sh, finish);
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

// r_t[j] of this layer's input. First layer: embedding([x_t, cond_t]) = embB + embW [x_t, cond_t].
__device__ inline float residualAt(const LayerParams& p, int s, int j, int t) {
    if (p.isFirst) {
        const int nc = p.sh.nCond;
        const float* w = p.embW + j * (1 + nc);
        float acc = fmaf(w[0], inputSample(p, s, t), p.embB[j]);
        for (int c = 0; c < nc; ++c) {
            const float v = p.cond ? sanitize(p.cond[(s * p.inStride + t) * nc + c]) : p.heldCond[c];
            acc = fmaf(w[1 + c], v, acc);
        }
        return acc;
    }
    return p.rIn[(static_cast<long long>(s) * p.sh.dMpad + j) * p.resStride + t];
}

// rT[j][t] = r_{t0+t}[j] for t < tl, else 0 (padding steps stay finite). xin[t] = x_{t0+t} (last layer).
__device__ inline void loadTile(const LayerParams& p, const Tile& T, int s, int t0, int tl) {
    const Shape& sh = p.sh;
    for (int i = threadIdx.x; i < sh.dMpad * sh.tile; i += blockDim.x) {
        const int j = i / sh.tile, t = i - j * sh.tile;
        T.rT[j * sh.ts + t] = (j < sh.dModel && t < tl) ? residualAt(p, s, j, t0 + t) : 0.0f;
    }
    if (p.isLast)
        for (int t = threadIdx.x; t < sh.tile; t += blockDim.x) T.xin[t] = t < tl ? inputSample(p, s, t0 + t) : 0.0f;
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
    const int T4 = tile / 4, M4 = M / 4, ldw4 = ldw / 4;
    for (int w = threadIdx.x; w < M4 * T4; w += blockDim.x) {
        const int mt = w / T4, tq = w - mt * T4;
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
template <bool FAST>
__device__ inline void convSilu(const LayerParams& p, const Tile& T) {
    const Shape& sh = p.sh;
    const int K = sh.dConv;
    for (int i = threadIdx.x; i < sh.dInner * sh.tile; i += blockDim.x) {
        const int d = i / sh.tile, t = i - d * sh.tile;
        const float* xr = T.xp + d * sh.xs + sh.ho - (K - 1) + t;
        const float* w = p.convW + d * K;
        float acc = p.convB[d];
        for (int k = 0; k < K; ++k) acc = fmaf(w[k], xr[k], acc);
        T.xc[d * sh.ts + t] = silu<FAST>(acc);
    }
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
// step). With gateZ: z[d][t] = SiLU(z[d][t]).
template <bool FAST>
__device__ inline void dtSoftplus(const LayerParams& p, const Tile& T, int tl, bool gateZ) {
    const Shape& sh = p.sh;
    const int R = sh.dtRank;
    for (int i = threadIdx.x; i < sh.dInner * sh.tile; i += blockDim.x) {
        const int d = i / sh.tile, t = i - d * sh.tile;
        float v = 0.0f;
        if (t < tl) {
            float acc = p.dtB[d];
            for (int r = 0; r < R; ++r) acc = fmaf(p.dtW[d * R + r], T.dbc[r * sh.ts + t], acc);
            v = softplus<FAST>(acc);
        }
        T.dt[d * sh.ts + t] = v;
        if (gateZ) T.z[d * sh.ts + t] = silu<FAST>(T.z[d * sh.ts + t]);
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
