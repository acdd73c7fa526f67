// Per-target selective-scan kernels of the fast training tape (FastTape.h): the forward scan, which
// saves the state every kCheckpoint steps, and the backward scan over one chunk, which recomputes
// the chunk's states from its checkpoint and runs the reverse-time recurrence over them. Included
// once per SIMD target by FastTape.cpp, after FastTapeOps-inl.h.
#if defined(MFX_TRAIN_FAST_SCAN_OPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MFX_TRAIN_FAST_SCAN_OPS_INL_H_
#undef MFX_TRAIN_FAST_SCAN_OPS_INL_H_
#else
#define MFX_TRAIN_FAST_SCAN_OPS_INL_H_
#endif

#include "hwy/highway.h"

#include "Train/FastTape.h"
#include "Train/FastTapeOps-inl.h"

#include <cstring>

HWY_BEFORE_NAMESPACE();
namespace mfx::train::HWY_NAMESPACE {

constexpr int kScanBlock = HWY_MAX_BYTES >= 64 ? 8 : 4; // states held in registers (32 or 16 vector registers)

// The inputs of one layer's scan. Rows are time steps; B and C are columns of xdb.
struct ScanIo {
    std::size_t L;
    int N, P, XOP, R;
    const float* A;    // (N, P)   A = -exp(A_log)
    const float* Asc;  // (N, P)   A as the target's ScanDecay takes it (kn::ScanA's scaling)
    const float* dt;   // (L, P)
    const float* xc;   // (L, P)
    const float* xdb;  // (L, XOP): B at column R + n, C at R + N + n
};

HWY_INLINE const float* ScanAFor(const FastTensors::Layer& L) { return MFX_SCAN_TABLE ? L.A16.data() : L.Alog2e.data(); }

// States n0..n0+NB-1 of lane group c over rows [0, L):
//   h_t = exp(dt_t A) h_{t-1} + (dt_t x_t) B_t;  acc_t (+)= sum_n C_t[n] h_t[n]  (acc in y between blocks)
// and h before every row t = k kCheckpoint is saved in hck[k].
template <int NB>
HWY_INLINE void ScanForwardBlock(const ScanIo& io, int c, int n0, float* HWY_RESTRICT hck, float* HWY_RESTRICT y) {
    const DF d;
    const std::size_t P = Z(io.P), NP = Z(io.N) * P;
    VF h[NB], A[NB];
    for (int i = 0; i < NB; ++i) {
        h[i] = hn::Zero(d);
        A[i] = hn::LoadU(d, io.Asc + Z(n0 + i) * P + Z(c));
    }
    for (std::size_t t = 0; t < io.L; ++t) {
        if (t % kCheckpoint == 0)
            for (int i = 0; i < NB; ++i) hn::StoreU(h[i], d, hck + (t / kCheckpoint) * NP + Z(n0 + i) * P + Z(c));
        const std::size_t o = t * P + Z(c);
        const auto dtv = hn::LoadU(d, io.dt + o);
        const auto dtx = hn::Mul(dtv, hn::LoadU(d, io.xc + o));
        const float* Bt = io.xdb + t * Z(io.XOP) + Z(io.R) + Z(n0);
        const float* Ct = Bt + io.N;
        auto acc = n0 == 0 ? hn::Zero(d) : hn::LoadU(d, y + o);
        for (int i = 0; i < NB; ++i) {
            h[i] = hn::MulAdd(kn::ScanDecay(d, dtv, A[i]), h[i], hn::Mul(dtx, hn::Set(d, Bt[i])));
            acc = hn::MulAdd(h[i], hn::Set(d, Ct[i]), acc);
        }
        hn::StoreU(acc, d, y + o);
    }
}

// yss = C.h + D x for every row, with the checkpoints hck ((L / kCheckpoint + 1), N, P).
HWY_INLINE void ScanForwardImpl(const ScanIo& io, const float* HWY_RESTRICT D, float* HWY_RESTRICT hck, float* HWY_RESTRICT yss) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    const std::size_t P = Z(io.P);
    for (int c = 0; c < io.P; c += Ln) {
        int n0 = 0;
        for (; n0 + kScanBlock <= io.N; n0 += kScanBlock) ScanForwardBlock<kScanBlock>(io, c, n0, hck, yss);
        for (; n0 + 2 <= io.N; n0 += 2) ScanForwardBlock<2>(io, c, n0, hck, yss);
        for (; n0 < io.N; ++n0) ScanForwardBlock<1>(io, c, n0, hck, yss);
        const auto Dv = hn::LoadU(d, D + c);
        for (std::size_t t = 0; t < io.L; ++t) {
            const std::size_t o = t * P + Z(c);
            hn::StoreU(hn::MulAdd(Dv, hn::LoadU(d, io.xc + o), hn::LoadU(d, yss + o)), d, yss + o);
        }
    }
}

// The backward scan's per-chunk buffers (FastTapeBuffers) and outputs.
struct ScanGrad {
    const float* gy;   // (L, P)  d/d(C.h)
    float* gh;         // (N, P)  d/dh after the chunk (in), before it (out)
    float* gA;         // (N, P)  += d/dA
    float* gdt;        // (L, P)  d/d(dt), written
    float* gx;         // (L, P)  += d/dx
    float* gxdb;       // (L, XOP) d/dB and d/dC written at B's and C's columns
    float* hLoc;       // (kCheckpoint+1, N, P)
    float* aLoc;       // (kCheckpoint, N, P)
    float* vB;         // (kCheckpoint, N, kLanes)
    float* vC;         // (kCheckpoint, N, kLanes)
    float* accX;       // (kCheckpoint, P)
};

// Recompute states n0.. of group c over rows [t0, t0 + n): hLoc[j + 1] = h_{t0+j}, aLoc[j] = exp(dt A).
template <int NB>
HWY_INLINE void RecomputeBlock(const ScanIo& io, std::size_t t0, std::size_t n, int c, int n0, const ScanGrad& g) {
    const DF d;
    const std::size_t P = Z(io.P), NP = Z(io.N) * P;
    VF h[NB], A[NB];
    for (int i = 0; i < NB; ++i) {
        h[i] = hn::LoadU(d, g.hLoc + Z(n0 + i) * P + Z(c));
        A[i] = hn::LoadU(d, io.Asc + Z(n0 + i) * P + Z(c));
    }
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t o = (t0 + j) * P + Z(c);
        const auto dtv = hn::LoadU(d, io.dt + o);
        const auto dtx = hn::Mul(dtv, hn::LoadU(d, io.xc + o));
        const float* Bt = io.xdb + (t0 + j) * Z(io.XOP) + Z(io.R) + Z(n0);
        for (int i = 0; i < NB; ++i) {
            const auto a = kn::ScanDecay(d, dtv, A[i]);
            h[i] = hn::MulAdd(a, h[i], hn::Mul(dtx, hn::Set(d, Bt[i])));
            hn::StoreU(h[i], d, g.hLoc + (j + 1) * NP + Z(n0 + i) * P + Z(c));
            hn::StoreU(a, d, g.aLoc + j * NP + Z(n0 + i) * P + Z(c));
        }
    }
}

// The reverse-time recurrence for states n0.. of group c, rows t0 + n - 1 down to t0. Per state n:
//   g = gh + C_t gy_t                 (d/dh_t: from the future and from the output)
//   gC_t += gy_t h_t;   gB_t += g dt_t x_t           (lane-wise here, summed over lanes later)
//   gdt_t += (g h_{t-1}) a_t A + g B_t x_t;   gA += (g h_{t-1}) a_t dt_t;   gx_t += g B_t dt_t
//   gh = g a_t                        (d/dh_{t-1})
template <int NB>
HWY_INLINE void ReverseBlock(const ScanIo& io, std::size_t t0, std::size_t n, int c, int n0, bool firstGroup, const ScanGrad& g) {
    const DF d;
    const std::size_t P = Z(io.P), NP = Z(io.N) * P;
    VF gh[NB], gA[NB];
    for (int i = 0; i < NB; ++i) {
        gh[i] = hn::LoadU(d, g.gh + Z(n0 + i) * P + Z(c));
        gA[i] = hn::LoadU(d, g.gA + Z(n0 + i) * P + Z(c));
    }
    for (std::size_t j = n; j-- > 0;) {
        const std::size_t o = (t0 + j) * P + Z(c);
        const auto gyv = hn::LoadU(d, g.gy + o);
        const auto dtv = hn::LoadU(d, io.dt + o);
        const auto xv = hn::LoadU(d, io.xc + o);
        const auto dtx = hn::Mul(dtv, xv);
        const float* Bt = io.xdb + (t0 + j) * Z(io.XOP) + Z(io.R);
        const float* Ct = Bt + io.N;
        auto accD = n0 == 0 ? hn::Zero(d) : hn::LoadU(d, g.gdt + o);
        auto accX = n0 == 0 ? hn::Zero(d) : hn::LoadU(d, g.accX + j * P + Z(c));
        for (int i = 0; i < NB; ++i) {
            const int nn = n0 + i;
            const std::size_t s = Z(nn) * P + Z(c);
            const auto hc = hn::LoadU(d, g.hLoc + (j + 1) * NP + s);
            const auto hp = hn::LoadU(d, g.hLoc + j * NP + s);
            const auto a = hn::LoadU(d, g.aLoc + j * NP + s);
            const auto Bn = hn::Set(d, Bt[nn]);
            const auto gt = hn::MulAdd(hn::Set(d, Ct[nn]), gyv, gh[i]);
            const auto gaa = hn::Mul(hn::Mul(gt, hp), a);
            accD = hn::MulAdd(gaa, hn::LoadU(d, io.A + s), accD);
            accD = hn::MulAdd(gt, hn::Mul(Bn, xv), accD);
            gA[i] = hn::MulAdd(gaa, dtv, gA[i]);
            accX = hn::MulAdd(gt, Bn, accX);
            gh[i] = hn::Mul(gt, a);
            float* vb = g.vB + (j * Z(io.N) + Z(nn)) * Z(kLanes);
            float* vc = g.vC + (j * Z(io.N) + Z(nn)) * Z(kLanes);
            const auto tb = hn::Mul(gt, dtx), tc = hn::Mul(gyv, hc);
            hn::StoreU(firstGroup ? tb : hn::Add(hn::LoadU(d, vb), tb), d, vb);
            hn::StoreU(firstGroup ? tc : hn::Add(hn::LoadU(d, vc), tc), d, vc);
        }
        hn::StoreU(accD, d, g.gdt + o);
        hn::StoreU(accX, d, g.accX + j * P + Z(c));
    }
    for (int i = 0; i < NB; ++i) {
        hn::StoreU(gh[i], d, g.gh + Z(n0 + i) * P + Z(c));
        hn::StoreU(gA[i], d, g.gA + Z(n0 + i) * P + Z(c));
    }
}

// The backward scan over rows [t0, t0 + n), n <= kCheckpoint, t0 a multiple of kCheckpoint: hck is
// the state before row t0.
HWY_INLINE void ScanBackwardChunk(const ScanIo& io, std::size_t t0, std::size_t n, const float* HWY_RESTRICT hck, const ScanGrad& g) {
    const DF d;
    const int Ln = static_cast<int>(hn::Lanes(d));
    const std::size_t P = Z(io.P), NP = Z(io.N) * P;
    std::memcpy(g.hLoc, hck, NP * sizeof(float));
    for (int c = 0; c < io.P; c += Ln) {
        const bool first = c == 0;
        int n0 = 0;
        for (; n0 + kScanBlock <= io.N; n0 += kScanBlock) RecomputeBlock<kScanBlock>(io, t0, n, c, n0, g);
        for (; n0 < io.N; ++n0) RecomputeBlock<1>(io, t0, n, c, n0, g);
        n0 = 0;
        for (; n0 + kScanBlock <= io.N; n0 += kScanBlock) ReverseBlock<kScanBlock>(io, t0, n, c, n0, first, g);
        for (; n0 < io.N; ++n0) ReverseBlock<1>(io, t0, n, c, n0, first, g);
        for (std::size_t j = 0; j < n; ++j) { // gx_t += dt_t sum_n g B
            const std::size_t o = (t0 + j) * P + Z(c);
            hn::StoreU(hn::MulAdd(hn::LoadU(d, g.accX + j * P + Z(c)), hn::LoadU(d, io.dt + o), hn::LoadU(d, g.gx + o)), d, g.gx + o);
        }
    }
    // gB, gC: the lane sums (over every group's lanes, already added up lane-wise)
    for (std::size_t j = 0; j < n; ++j) {
        float* gB = g.gxdb + (t0 + j) * Z(io.XOP) + Z(io.R);
        for (int n0 = 0; n0 < io.N; n0 += Ln) {
            const int nv = io.N - n0 < Ln ? io.N - n0 : Ln;
            SumLanesOfVectors(g.vB + (j * Z(io.N) + Z(n0)) * Z(kLanes), nv, gB + n0);
            SumLanesOfVectors(g.vC + (j * Z(io.N) + Z(n0)) * Z(kLanes), nv, gB + io.N + n0);
        }
    }
}

} // namespace mfx::train::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif // MFX_TRAIN_FAST_SCAN_OPS_INL_H_
