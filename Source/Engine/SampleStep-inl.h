// The whole model for one sample (one time step) in one function, with every dimension fixed at
// compile time (Shape), for the real-time engine's small blocks: no per-kernel loop set-up, the
// residual stream and the per-step vectors in registers or small stack buffers, the conv window read
// straight from the state. Included once per SIMD target by Kernels.cpp, after KernelOps-inl.h.
//
// Bitwise contract: every output element is computed with exactly the operations, in exactly the
// order, of the block path (Kernels.cpp RunBlockT with KernelOps-inl.h), so the engine's output does
// not depend on which path ran a sample. Any change to one path's arithmetic must be made to both
// (Tests/Core EngineTests "bitwise identical for every block size" guards it).
#if defined(MFX_ENGINE_SAMPLE_STEP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MFX_ENGINE_SAMPLE_STEP_INL_H_
#undef MFX_ENGINE_SAMPLE_STEP_INL_H_
#else
#define MFX_ENGINE_SAMPLE_STEP_INL_H_
#endif

#include "hwy/highway.h"

#include "Engine/BlockRunner.h"
#include "Engine/KernelOps-inl.h"
#include "Engine/Sanitize.h"

HWY_BEFORE_NAMESPACE();
namespace mfx::kernels::HWY_NAMESPACE {

constexpr int kMaxCond = 16; // Config::validate's bound on nCond

// A model shape known at compile time (real sizes; padded sizes as PreparedModel pads them).
template <int kModel, int kInner, int kState, int kConv, int kRank>
struct Shape {
    static constexpr int dModel = kModel, dInner = kInner, dState = kState, dConv = kConv, dtRank = kRank;
    static constexpr int Mp = (kModel + kLanes - 1) / kLanes * kLanes;                 // dModelP
    static constexpr int P = (kInner + kLanes - 1) / kLanes * kLanes;                  // dInnerP
    static constexpr int BCp = (2 * kState + kLanes - 1) / kLanes * kLanes;            // bcP
    static bool matches(const PreparedModel& pm) {
        const Config& c = pm.config();
        return c.dModel == kModel && c.dInner() == kInner && c.dState == kState && c.dConv == kConv && c.dtRank == kRank &&
               pm.dModelP == Mp && pm.dInnerP == P && pm.bcP == BCp;
    }
};

// a (NV vectors, initial values in) <- one row of a linear layer, in register tiles of kMaxTile
// vectors: the block path's LinearImpl arithmetic (LinearAcc) with inDim fixed.
template <int NV>
HWY_INLINE void LinearRow(const float* HWY_RESTRICT xr, int inDim, const float* HWY_RESTRICT Wt, int outP, hn::Vec<DF>* HWY_RESTRICT a) {
    constexpr int L = static_cast<int>(hn::MaxLanes(DF()));
    constexpr int T = NV < kMaxTile ? NV : kMaxTile;
    LinearAcc<T>(xr, inDim, Wt, static_cast<std::size_t>(outP), a);
    if constexpr (NV > T) LinearRow<NV - T>(xr, inDim, Wt + T * L, outP, a + T);
}

// The same as LinearRow with the row's inputs in registers (x: (ceil(kIn / L)) vectors): on AVX-512
// each input is broadcast from its register by a lane permute instead of being stored and loaded back
// (a store-to-load round trip on the chain); the same values, multiply-adds and partial sums as
// LinearAcc (input k to partial k mod kSplit, ascending), so the results are bitwise LinearRow's.
template <int NV, int kIn>
HWY_INLINE void LinearRowV(const hn::Vec<DF>* HWY_RESTRICT x, const float* HWY_RESTRICT Wt, int outP, hn::Vec<DF>* HWY_RESTRICT a) {
#if HWY_TARGET <= HWY_AVX3 && HWY_ARCH_X86
    using V = hn::Vec<DF>;
    const DF d;
    constexpr int L = static_cast<int>(hn::MaxLanes(DF()));
    static_assert(NV <= kMaxTile, "one register tile");
    V p[kSplit][NV];
    for (int v = 0; v < NV; ++v) {
        p[0][v] = a[v];
        for (int s = 1; s < kSplit; ++s) p[s][v] = hn::Zero(d);
    }
#pragma GCC unroll 64
    for (int k = 0; k < kIn; ++k) {
        const V xv{_mm512_permutexvar_ps(_mm512_set1_epi32(k % L), x[k / L].raw)};
        const float* w = Wt + static_cast<std::size_t>(k) * static_cast<std::size_t>(outP);
        for (int v = 0; v < NV; ++v) p[k % kSplit][v] = hn::MulAdd(xv, hn::LoadU(d, w + v * L), p[k % kSplit][v]);
    }
    for (int v = 0; v < NV; ++v) {
        if constexpr (kIn >= 4) a[v] = hn::Add(hn::Add(p[0][v], p[1][v]), hn::Add(p[2][v], p[3][v]));
        else if constexpr (kIn == 3) a[v] = hn::Add(hn::Add(p[0][v], p[1][v]), p[2][v]);
        else if constexpr (kIn == 2) a[v] = hn::Add(p[0][v], p[1][v]);
        else a[v] = p[0][v];
    }
#else
    constexpr int L = static_cast<int>(hn::MaxLanes(DF()));
    alignas(64) float xs[(kIn + L - 1) / L * L];
    for (int v = 0; v < (kIn + L - 1) / L; ++v) hn::Store(x[v], DF(), xs + v * L);
    LinearRow<NV>(xs, kIn, Wt, outP, a);
#endif
}

// One Mamba block for one sample: r (Mp / L vectors) <- r + Mamba(RMSNorm(r)); conv (dConv-1, P) and
// h (dState, P) are this layer's state, updated in place.
template <class S>
HWY_INLINE void LayerStep(const PreparedLayer& Ly, int dModel, float* HWY_RESTRICT conv, float* HWY_RESTRICT h, hn::Vec<DF>* HWY_RESTRICT r) {
    using V = hn::Vec<DF>;
    const DF d;
    constexpr int L = static_cast<int>(hn::MaxLanes(DF())), MV = S::Mp / L, PV = S::P / L, BV = S::BCp / L;
    constexpr int P = S::P, N = S::dState, K1 = S::dConv - 1, R = S::dtRank;
    alignas(64) float xc[S::P];     // (P) SiLU(conv1d(x)), for the broadcasts where LinearRowV does not apply
    alignas(64) float bc[S::BCp];   // (BCp) x_proj(xc), [B | C]

    // [x | z] = in_proj(RMSNorm(r)) = s * (r inProjT'): the products start from r while s is computed
    // (RmsScaleImpl, LinearImpl with a row scale)
    V ss = hn::Zero(d);
    for (int v = 0; v < MV; ++v) ss = hn::MulAdd(r[v], r[v], ss);
    const V s = RmsScaleV(d, hn::SumOfLanes(d, ss), dModel, kNormEps);
    V xz[2 * PV]; // [x | z]
    for (int v = 0; v < 2 * PV; ++v) xz[v] = hn::Zero(d);
    if constexpr (2 * PV <= kMaxTile) LinearRowV<2 * PV, S::dModel>(r, Ly.inProjT.data(), 2 * P, xz);
    else {
        alignas(64) float u[S::Mp]; // (Mp) r
        for (int v = 0; v < MV; ++v) hn::Store(r[v], d, u + v * L);
        LinearRow<2 * PV>(u, S::dModel, Ly.inProjT.data(), 2 * P, xz);
    }
    for (int v = 0; v < 2 * PV; ++v) xz[v] = hn::Mul(xz[v], s);
    const V* x = xz;
    const V* z = xz + PV;
    V xcv[PV]; // (P) xc in registers
    // xc = SiLU(convB + sum_k convW[k] window[k]), window = [conv state rows oldest first, x]; then
    // the state shifts by one row                                (ConvSiluImpl)
    for (int v = 0; v < PV; ++v) {
        V a = hn::Load(d, Ly.convB.data() + v * L);
        V rows[K1 > 0 ? K1 : 1];
        for (int k = 0; k < K1; ++k) {
            rows[k] = hn::Load(d, conv + k * P + v * L);
            a = hn::MulAdd(hn::Load(d, Ly.convW.data() + k * P + v * L), rows[k], a);
        }
        a = hn::MulAdd(hn::Load(d, Ly.convW.data() + K1 * P + v * L), x[v], a);
        xcv[v] = Silu(d, a);
        hn::Store(xcv[v], d, xc + v * L);
        for (int k = 0; k + 1 < K1; ++k) hn::Store(rows[k + 1], d, conv + k * P + v * L);
        if (K1 > 0) hn::Store(x[v], d, conv + (K1 - 1) * P + v * L);
    }
    // x_proj(xc): the dt part by dot products first (DtDotImpl), so the dt chain starts early;
    // then [B | C], whose multiply-adds fill the softplus wait         (LinearImpl)
    V dt[PV], gate[PV];
    for (int v = 0; v < PV; ++v) dt[v] = hn::Load(d, Ly.dtBias.data() + v * L);
    if constexpr (R == 1) {
        // DotRow's sum as the vector SumOfLanes returns (every lane the sum), multiplied straight in:
        // LinearAcc's one multiply-add for a single input, without the store and broadcast
        V a = hn::Mul(xcv[0], hn::Load(d, Ly.xProjDt.data()));
        for (int v = 1; v < PV; ++v) a = hn::MulAdd(xcv[v], hn::Load(d, Ly.xProjDt.data() + v * L), a);
        const V dtSum = hn::SumOfLanes(d, a);
        for (int v = 0; v < PV; ++v) dt[v] = hn::MulAdd(dtSum, hn::Load(d, Ly.dtProjT.data() + v * L), dt[v]);
    } else {
        alignas(64) float dtr[R]; // (dtRank) x_proj(xc), dt part
        for (int k = 0; k < R; ++k) dtr[k] = DotRow(xc, Ly.xProjDt.data() + k * P, P);
        LinearRow<PV>(dtr, R, Ly.dtProjT.data(), P, dt);
    }
    {
        V a[BV];
        for (int v = 0; v < BV; ++v) a[v] = hn::Zero(d);
        if constexpr (BV <= kMaxTile) LinearRowV<BV, S::dInner>(xcv, Ly.xProjBC.data(), S::BCp, a);
        else LinearRow<BV>(xc, S::dInner, Ly.xProjBC.data(), S::BCp, a);
        for (int v = 0; v < BV; ++v) hn::Store(a[v], d, bc + v * L);
    }
    // dt = softplus(dt_proj.bias + dt_proj(dt)) and SiLU(z) for every lane group before the scans,
    // so their latencies overlap
    for (int v = 0; v < PV; ++v) {
        dt[v] = SoftplusV(d, dt[v]);
        gate[v] = Silu(d, z[v]);
    }
    // the selective scan for each lane group:
    //   h[n] <- exp(dt A[n]) h[n] + (dt x) B[n];  y = (sum_n C[n] h[n] + D x) * SiLU(z)   (SelectiveScanImpl)
    const float* A = ScanA(Ly);
    V yv[PV]; // (P) gated scan output
    for (int v = 0; v < PV; ++v) {
        const V xv = xcv[v];
        const V dtx = hn::Mul(dt[v], xv);
        V acc = hn::Zero(d);
        for (int n = 0; n < N; ++n) {
            float* hp = h + n * P + v * L;
            const V dA = ScanDecay(d, dt[v], hn::Load(d, A + n * P + v * L));
            const V hv = hn::MulAdd(dA, hn::Load(d, hp), hn::Mul(dtx, hn::Set(d, bc[n])));
            hn::Store(hv, d, hp);
            acc = hn::MulAdd(hv, hn::Set(d, bc[N + n]), acc);
        }
        acc = hn::MulAdd(hn::Load(d, Ly.D.data() + v * L), xv, acc);
        yv[v] = hn::Mul(acc, gate[v]);
    }
    // r = r + out_proj(y): the chain starts from r                (LinearImpl, accumulate)
    if constexpr (MV <= kMaxTile) LinearRowV<MV, S::dInner>(yv, Ly.outProjT.data(), S::Mp, r);
    else {
        alignas(64) float y[S::P]; // (P) gated scan output
        for (int v = 0; v < PV; ++v) hn::Store(yv[v], d, y + v * L);
        LinearRow<MV>(y, S::dInner, Ly.outProjT.data(), S::Mp, r);
    }
}

// io.rows samples one after another through the whole model (shape S), as RunBlockT would.
template <class S>
HWY_NOINLINE void RunSamples(const PreparedModel& pm, ChannelState& st, const BlockIo& io) {
    using V = hn::Vec<DF>;
    const DF d;
    constexpr int L = static_cast<int>(hn::MaxLanes(DF())), MV = S::Mp / L;
    const Config& c = pm.config();
    const int F = 1 + c.nCond;
    for (std::size_t t = 0; t < io.rows; ++t) {
        // r = embedding([sanitize(sample), sanitize(cond...)])
        const float inSan = sanitizeSample(io.in[t]);
        float feat[1 + kMaxCond]; // (1 + nCond)
        feat[0] = inSan;
        for (int j = 0; j < c.nCond; ++j)
            feat[1 + j] = sanitizeSample(io.cond ? io.cond[t * io.condStride + static_cast<std::size_t>(j)] : io.held[j]);
        V r[MV]; // (Mp) residual stream
        for (int v = 0; v < MV; ++v) r[v] = hn::Load(d, pm.embB.data() + v * L);
        LinearRow<MV>(feat, F, pm.embT.data(), S::Mp, r);
        for (int l = 0; l < c.nLayers; ++l)
            LayerStep<S>(pm.layers[static_cast<std::size_t>(l)], c.dModel, st.conv[static_cast<std::size_t>(l)].data(),
                         st.ssm[static_cast<std::size_t>(l)].data(), r);
        // out = headB + s (r . headW') + skip * sample          (RmsScaleImpl, HeadImpl)
        V ss = hn::Zero(d);
        for (int v = 0; v < MV; ++v) ss = hn::MulAdd(r[v], r[v], ss);
        const float s = hn::GetLane(RmsScaleV(d, hn::SumOfLanes(d, ss), c.dModel, kNormEps));
        V a = hn::Zero(d);
        for (int v = 0; v < MV; ++v) a = hn::MulAdd(r[v], hn::Load(d, pm.headW.data() + v * L), a);
        io.out[t] = HeadOut(pm.headB, hn::GetLane(hn::SumOfLanes(d, a)), s, pm.skip, inSan);
    }
}

} // namespace mfx::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif // MFX_ENGINE_SAMPLE_STEP_INL_H_
