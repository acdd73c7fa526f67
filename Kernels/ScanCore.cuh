#pragma once
// The selective scan over one tile, for one thread's NPT states of channel d (see ScanRole):
//   dA = exp(dt * A);  h <- dA * h + dt * B * x;  y = C . h + D * x;  y *= SiLU(z)
// FAST: dA = 2^(dt * A log2 e) by ex2.approx (A is passed pre-scaled by log2 e); else expf(dt * A).
// Steps are read four at a time (16-byte shared loads: B and C rows are shared by all channels, so a
// warp's loads are broadcasts). y is summed over the state groups of a channel with warp shuffles.
#include "ChunkTile.cuh"

namespace mfx::cuda {

// Kernel A: from the state in h, no output. S accumulates sum_t dt (Kahan-compensated, for the carry
// prod_t exp(dt_t A) = exp(A sum_t dt_t)).
template <bool FAST>
__device__ __forceinline__ float decay(float dtA) { return FAST ? ex2Approx(dtA) : expf(dtA); }

template <int NPT, bool FAST>
__device__ inline void scanTileLocal(const Shape& sh, const Tile& T, const ScanRole& r, float (&h)[NPT],
                                     const float (&A)[NPT], float& S, float& Sc) {
    const float* dtr = T.dt + r.d * sh.ts;
    const float* xr = T.xc + r.d * sh.ts;
    const float* Br = T.dbc + (sh.rPad + r.g * NPT) * sh.ts;
    for (int t = 0; t < sh.tile; t += 4) {
        const float4 dt4 = ld4(dtr + t), x4 = ld4(xr + t);
        const float dtv[4] = {dt4.x, dt4.y, dt4.z, dt4.w};
        const float dtx[4] = {dt4.x * x4.x, dt4.y * x4.y, dt4.z * x4.z, dt4.w * x4.w};
#pragma unroll
        for (int i = 0; i < NPT; ++i) {
            const float4 b4 = ld4(Br + i * sh.ts + t);
            const float b[4] = {b4.x, b4.y, b4.z, b4.w};
#pragma unroll
            for (int j = 0; j < 4; ++j) h[i] = fmaf(decay<FAST>(dtv[j] * A[i]), h[i], dtx[j] * b[j]);
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) { // Kahan: S += dt
            const float yk = dtv[j] - Sc;
            const float tk = S + yk;
            Sc = (tk - S) - yk;
            S = tk;
        }
    }
}

// Kernel C: from the chunk's true initial state in h; writes y[d][t] = (C.h + D x) * SiLU(z).
template <int NPT, bool FAST>
__device__ inline void scanTileFinish(const Shape& sh, const Tile& T, const ScanRole& r, float (&h)[NPT],
                                      const float (&A)[NPT], float Dd) {
    const float* dtr = T.dt + r.d * sh.ts;
    const float* xr = T.xc + r.d * sh.ts;
    const float* Br = T.dbc + (sh.rPad + r.g * NPT) * sh.ts;
    const float* Cr = Br + sh.nP * sh.ts;
    const int G = sh.groups;
    for (int t = 0; t < sh.tile; t += 4) {
        const float4 dt4 = ld4(dtr + t), x4 = ld4(xr + t);
        const float dtv[4] = {dt4.x, dt4.y, dt4.z, dt4.w};
        const float dtx[4] = {dt4.x * x4.x, dt4.y * x4.y, dt4.z * x4.z, dt4.w * x4.w};
        float yv[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
        for (int i = 0; i < NPT; ++i) {
            const float4 b4 = ld4(Br + i * sh.ts + t), c4 = ld4(Cr + i * sh.ts + t);
            const float b[4] = {b4.x, b4.y, b4.z, b4.w}, c[4] = {c4.x, c4.y, c4.z, c4.w};
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                h[i] = fmaf(decay<FAST>(dtv[j] * A[i]), h[i], dtx[j] * b[j]);
                yv[j] = fmaf(c[j], h[i], yv[j]);
            }
        }
        for (int off = G >> 1; off > 0; off >>= 1)
#pragma unroll
            for (int j = 0; j < 4; ++j) yv[j] += __shfl_xor_sync(0xffffffffu, yv[j], off);
        if (r.active && r.g == 0) {
            const float4 z4 = ld4(T.z + r.d * sh.ts + t);
            st4(T.y + r.d * sh.ts + t, make_float4(fmaf(Dd, x4.x, yv[0]) * z4.x, fmaf(Dd, x4.y, yv[1]) * z4.y,
                                                   fmaf(Dd, x4.z, yv[2]) * z4.z, fmaf(Dd, x4.w, yv[3]) * z4.w));
        }
    }
}

// Loads A[d][g*NPT + i] (0 for padding states); FAST: times log2(e), for ex2.
template <int NPT, bool FAST>
__device__ inline void loadA(const LayerParams& p, const ScanRole& r, float (&A)[NPT]) {
#pragma unroll
    for (int i = 0; i < NPT; ++i) A[i] = p.A[r.d * p.sh.nP + r.g * NPT + i] * (FAST ? 1.4426950408889634f : 1.0f);
}

// Dispatch on the compile-time states-per-thread count.
#define MFX_DISPATCH_NPT(npt, ...)                       \
    switch (npt) {                                               \
    case 1: { constexpr int NPT = 1; __VA_ARGS__; } break;       \
    case 2: { constexpr int NPT = 2; __VA_ARGS__; } break;       \
    case 4: { constexpr int NPT = 4; __VA_ARGS__; } break;       \
    case 8: { constexpr int NPT = 8; __VA_ARGS__; } break;       \
    case 16: { constexpr int NPT = 16; __VA_ARGS__; } break;     \
    case 32: { constexpr int NPT = 32; __VA_ARGS__; } break;     \
    case 64: { constexpr int NPT = 64; __VA_ARGS__; } break;     \
    default: throw ModelError("CUDA backend: unsupported states per thread " + std::to_string(npt)); \
    }

} // namespace mfx::cuda
