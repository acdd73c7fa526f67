// Per-target kernels of the fast training tape (FastTape.h), included once per SIMD target by
// FastTape.cpp. Vectors run over the padded channel dimension; rows are time steps. The linear
// layers' forward and input-gradient products are the engine's LinearImpl (Engine/KernelOps-inl.h).
#if defined(MFX_TRAIN_FAST_TAPE_OPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MFX_TRAIN_FAST_TAPE_OPS_INL_H_
#undef MFX_TRAIN_FAST_TAPE_OPS_INL_H_
#else
#define MFX_TRAIN_FAST_TAPE_OPS_INL_H_
#endif

#include "hwy/highway.h"

#include "Engine/KernelOps-inl.h"

#include <cstddef>

HWY_BEFORE_NAMESPACE();
namespace mfx::train::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace kn = mfx::kernels::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

inline std::size_t Z(int v) { return static_cast<std::size_t>(v); }

// sigmoid(v) = 1 / (1 + exp(-v)), with the engine's exp and reciprocal (as its SiLU)
HWY_INLINE VF Sigmoid(DF d, VF v) { return kn::FastRecip(d, hn::Add(hn::Set(d, 1.0f), kn::FastExp(d, hn::Neg(v)))); }

// out[j] += sum_t x[t * stride + j]  for j < width (a multiple of kLanes)
HWY_INLINE void ColumnSumAcc(const float* HWY_RESTRICT x, std::size_t stride, std::size_t L, int width, float* HWY_RESTRICT out) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    for (int j = 0; j < width; j += Ln) {
        auto a0 = hn::Zero(d), a1 = hn::Zero(d); // two chains: even and odd rows
        std::size_t t = 0;
        for (; t + 2 <= L; t += 2) {
            a0 = hn::Add(a0, hn::LoadU(d, x + t * stride + Z(j)));
            a1 = hn::Add(a1, hn::LoadU(d, x + (t + 1) * stride + Z(j)));
        }
        if (t < L) a0 = hn::Add(a0, hn::LoadU(d, x + t * stride + Z(j)));
        hn::StoreU(hn::Add(hn::LoadU(d, out + j), hn::Add(a0, a1)), d, out + j);
    }
}

// gW[(o0 + i) * sW + j0 + v Ln] += sum_t gY[t * sY + o0 + i] * X[t * sX + j0 + v Ln],  i < OB, v < NV:
// a register tile of OB x NV accumulators over the whole segment (each element one chain in t).
template <int OB, int NV>
HWY_INLINE void WeightGradTile(const float* HWY_RESTRICT gY, std::size_t sY, std::size_t L, int o0, const float* HWY_RESTRICT X,
                               std::size_t sX, int j0, float* HWY_RESTRICT gW, std::size_t sW) {
    const DF d;
    const std::size_t Ln = hn::Lanes(d);
    VF acc[OB][NV];
    for (int i = 0; i < OB; ++i)
        for (int v = 0; v < NV; ++v) acc[i][v] = hn::Zero(d);
    for (std::size_t t = 0; t < L; ++t) {
        VF x[NV];
        for (int v = 0; v < NV; ++v) x[v] = hn::LoadU(d, X + t * sX + Z(j0) + Z(v) * Ln);
        const float* g = gY + t * sY + Z(o0);
        for (int i = 0; i < OB; ++i) {
            const auto gi = hn::Set(d, g[i]);
            for (int v = 0; v < NV; ++v) acc[i][v] = hn::MulAdd(gi, x[v], acc[i][v]);
        }
    }
    for (int i = 0; i < OB; ++i)
        for (int v = 0; v < NV; ++v) {
            float* w = gW + Z(o0 + i) * sW + Z(j0) + Z(v) * Ln;
            hn::StoreU(hn::Add(hn::LoadU(d, w), acc[i][v]), d, w);
        }
}

template <int NV>
HWY_INLINE void WeightGradCols(const float* gY, std::size_t sY, std::size_t L, int nOut, const float* X, std::size_t sX, int j0,
                               float* gW, std::size_t sW) {
    constexpr int OB = NV >= 4 ? 2 : 8 / NV; // about 8 accumulators
    int o = 0;
    for (; o + OB <= nOut; o += OB) WeightGradTile<OB, NV>(gY, sY, L, o, X, sX, j0, gW, sW);
    for (; o < nOut; ++o) WeightGradTile<1, NV>(gY, sY, L, o, X, sX, j0, gW, sW);
}

// gW (nOut, sW) += gY^T X:  gW[o, j] += sum_t gY[t, o] X[t, j],  o < nOut, j < width (a multiple of kLanes)
HWY_INLINE void WeightGradImpl(const float* gY, std::size_t sY, std::size_t L, int nOut, const float* X, std::size_t sX, int width,
                               float* gW, std::size_t sW) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    int j = 0;
    for (; j + 4 * Ln <= width; j += 4 * Ln) WeightGradCols<4>(gY, sY, L, nOut, X, sX, j, gW, sW);
    const int rest = (width - j) / Ln;
    if (rest == 3) WeightGradCols<3>(gY, sY, L, nOut, X, sX, j, gW, sW);
    else if (rest == 2) WeightGradCols<2>(gY, sY, L, nOut, X, sX, j, gW, sW);
    else if (rest == 1) WeightGradCols<1>(gY, sY, L, nOut, X, sX, j, gW, sW);
}

// u = r * s * w with s[t] = RmsScale (saved):  RMSNorm over dim of dimP floats per row
HWY_INLINE void RmsNormForwardImpl(const float* HWY_RESTRICT r, std::size_t L, int dim, int dimP, const float* HWY_RESTRICT w,
                                   float* HWY_RESTRICT u, float* HWY_RESTRICT s) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    kn::RmsScaleImpl(r, L, dim, dimP, kn::kNormEps, s);
    for (std::size_t t = 0; t < L; ++t) {
        const auto sv = hn::Set(d, s[t]);
        for (int j = 0; j < dimP; j += Ln)
            hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(d, r + t * Z(dimP) + Z(j)), sv), hn::LoadU(d, w + j)), d, u + t * Z(dimP) + Z(j));
    }
}

// gw += sum_t gu r s;   gr += s gu w - (s^3 / dim) r sum_j(gu_j w_j r_j)
HWY_INLINE void RmsNormBackwardImpl(const float* HWY_RESTRICT r, const float* HWY_RESTRICT s, std::size_t L, int dim, int dimP,
                                    const float* HWY_RESTRICT w, const float* HWY_RESTRICT gu, float* HWY_RESTRICT gr,
                                    float* HWY_RESTRICT gw) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    for (int j = 0; j < dimP; j += Ln) { // gw: a column sum of gu r s
        auto a = hn::Zero(d);
        for (std::size_t t = 0; t < L; ++t)
            a = hn::MulAdd(hn::Mul(hn::LoadU(d, gu + t * Z(dimP) + Z(j)), hn::Set(d, s[t])), hn::LoadU(d, r + t * Z(dimP) + Z(j)), a);
        hn::StoreU(hn::Add(hn::LoadU(d, gw + j), a), d, gw + j);
    }
    for (std::size_t t = 0; t < L; ++t) {
        const float* rr = r + t * Z(dimP);
        const float* g = gu + t * Z(dimP);
        auto dot = hn::Zero(d);
        for (int j = 0; j < dimP; j += Ln)
            dot = hn::MulAdd(hn::Mul(hn::LoadU(d, g + j), hn::LoadU(d, w + j)), hn::LoadU(d, rr + j), dot);
        const float st = s[t];
        const auto k = hn::Set(d, st * st * st * hn::GetLane(hn::SumOfLanes(d, dot)) / static_cast<float>(dim));
        const auto sv = hn::Set(d, st);
        for (int j = 0; j < dimP; j += Ln) {
            float* o = gr + t * Z(dimP) + Z(j);
            const auto term = hn::NegMulAdd(k, hn::LoadU(d, rr + j), hn::Mul(sv, hn::Mul(hn::LoadU(d, g + j), hn::LoadU(d, w + j))));
            hn::StoreU(hn::Add(hn::LoadU(d, o), term), d, o);
        }
    }
}

// xpre[t] = convB + sum_k convW[k] xw[t + k];  xc[t] = SiLU(xpre[t])     (xw: (dConv-1+L, P))
HWY_INLINE void ConvForwardImpl(const float* HWY_RESTRICT xw, std::size_t L, int K, const float* HWY_RESTRICT convW,
                                const float* HWY_RESTRICT convB, int P, float* HWY_RESTRICT xpre, float* HWY_RESTRICT xc) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    for (std::size_t t = 0; t < L; ++t)
        for (int c = 0; c < P; c += Ln) {
            auto a = hn::LoadU(d, convB + c);
            for (int k = 0; k < K; ++k)
                a = hn::MulAdd(hn::LoadU(d, convW + Z(k) * Z(P) + Z(c)), hn::LoadU(d, xw + (t + Z(k)) * Z(P) + Z(c)), a);
            hn::StoreU(a, d, xpre + t * Z(P) + Z(c));
            hn::StoreU(kn::Silu(d, a), d, xc + t * Z(P) + Z(c));
        }
}

// Given gxc = d/d(xc): gxpre = gxc SiLU'(xpre) (in place), SiLU'(v) = s (1 + v (1 - s)), s = sigmoid(v);
// gConvB += sum_t gxpre[t];  gConvW[k] += sum_t gxpre[t] xw[t + k];
// gx[t] (the x half of gxz rows, stride sGx) = sum_k convW[k] gxpre[t + dConv-1 - k]  (terms with t + dConv-1 - k < L)
HWY_INLINE void ConvBackwardImpl(const float* HWY_RESTRICT xw, const float* HWY_RESTRICT xpre, std::size_t L, int K,
                                 const float* HWY_RESTRICT convW, int P, float* HWY_RESTRICT gxc, float* HWY_RESTRICT gConvW,
                                 float* HWY_RESTRICT gConvB, float* HWY_RESTRICT gx, std::size_t sGx) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    const std::size_t PP = Z(P);
    for (std::size_t i = 0; i < L * PP; i += Z(Ln)) {
        const auto v = hn::LoadU(d, xpre + i);
        const auto s = Sigmoid(d, v);
        const auto dsilu = hn::Mul(s, hn::MulAdd(v, hn::Sub(hn::Set(d, 1.0f), s), hn::Set(d, 1.0f)));
        hn::StoreU(hn::Mul(hn::LoadU(d, gxc + i), dsilu), d, gxc + i);
    }
    ColumnSumAcc(gxc, PP, L, P, gConvB);
    for (int k = 0; k < K; ++k)
        for (int c = 0; c < P; c += Ln) {
            auto a = hn::Zero(d);
            for (std::size_t t = 0; t < L; ++t)
                a = hn::MulAdd(hn::LoadU(d, gxc + t * PP + Z(c)), hn::LoadU(d, xw + (t + Z(k)) * PP + Z(c)), a);
            float* o = gConvW + Z(k) * PP + Z(c);
            hn::StoreU(hn::Add(hn::LoadU(d, o), a), d, o);
        }
    for (std::size_t t = 0; t < L; ++t)
        for (int c = 0; c < P; c += Ln) {
            auto a = hn::Zero(d);
            for (int k = K - 1; k >= 0; --k) {
                const std::size_t src = t + Z(K - 1 - k);
                if (src < L) a = hn::MulAdd(hn::LoadU(d, convW + Z(k) * PP + Z(c)), hn::LoadU(d, gxc + src * PP + Z(c)), a);
            }
            hn::StoreU(a, d, gx + t * sGx + Z(c));
        }
}

// out[k] = the sum of the lanes of vector k, k < nv <= Lanes: the vectors at v + k kLanes (clobbered).
// A transposed reduction: log2(Lanes) rounds of pairwise sums, each combining two vectors into one
// that holds the pair sums of the first in its lower half and of the second in its upper half.
HWY_INLINE void SumLanesOfVectors(float* HWY_RESTRICT v, int nv, float* HWY_RESTRICT out) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
#if HWY_TARGET == HWY_SCALAR
    for (int k = 0; k < nv; ++k) out[k] = v[Z(k) * Z(kLanes)];
    (void)Ln;
#else
    VF w[kLanes];
    for (int k = 0; k < Ln; ++k) w[k] = k < nv ? hn::LoadU(d, v + Z(k) * Z(kLanes)) : hn::Zero(d);
    for (int width = Ln; width > 1; width /= 2)
        for (int i = 0; i < width / 2; ++i)
            w[i] = hn::Add(hn::ConcatEven(d, w[2 * i + 1], w[2 * i]), hn::ConcatOdd(d, w[2 * i + 1], w[2 * i]));
    HWY_ALIGN float tmp[kLanes];
    hn::Store(w[0], d, tmp);
    for (int k = 0; k < nv; ++k) out[k] = tmp[k];
#endif
}

} // namespace mfx::train::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif // MFX_TRAIN_FAST_TAPE_OPS_INL_H_
