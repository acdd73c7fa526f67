// The fast training tape's forward and backward sequences (FastTape.h), compiled once per SIMD
// target by foreach_target.h and chosen at run time. The formula of each step stands above it.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "Train/FastTape.cpp"
#include "hwy/foreach_target.h" // IWYU pragma: keep
#include "hwy/highway.h"

#include "Engine/Sanitize.h"
#include "Train/FastScanOps-inl.h"
#include "Train/FastTape.h"
#include "Train/FastTapeOps-inl.h"

#include <algorithm>
#include <cstring>

HWY_BEFORE_NAMESPACE();
namespace mfx::train::HWY_NAMESPACE {

HWY_INLINE ScanIo ScanIoOf(const FastShape& s, const FastTensors::Layer& W, const FastTapeBuffers::Layer& tp, std::size_t L) {
    return ScanIo{L, s.c.dState, s.P, s.XOP, s.c.dtRank, W.A.data(), ScanAFor(W), tp.dt.data(), tp.xc.data(), tp.xdb.data()};
}

void Forward(const FastParams& fp, FastTapeBuffers& b, const float* in, const float* cond, std::size_t L, float* out) {
    const DF d;
    const std::size_t Ln = hn::Lanes(d);
    const FastShape& s = fp.shape;
    const Config& c = s.c;
    const FastTensors& W = fp.t;
    const int F = s.F, Mp = s.dMP, P = s.P, K = c.dConv, R = c.dtRank, XOP = s.XOP;
    const std::size_t MP = Z(Mp), PP = Z(P), XP = Z(XOP);
    // feat = [sanitize(sample), sanitize(cond...)];  r = embedding(feat)
    for (std::size_t t = 0; t < L; ++t) {
        b.feat[t * Z(F)] = sanitizeSample(in[t]);
        for (int j = 1; j < F; ++j) b.feat[t * Z(F) + Z(j)] = cond ? sanitizeSample(cond[t * Z(c.nCond) + Z(j - 1)]) : 0.0f;
    }
    float* r = c.nLayers > 0 ? b.layers[0].rIn.data() : b.rF.data();
    kn::LinearImpl(b.feat.data(), Z(F), L, F, W.embT.data(), Mp, W.embB.data(), r, MP, false);
    for (int l = 0; l < c.nLayers; ++l) {
        auto& tp = b.layers[Z(l)];
        const auto& Wl = W.layers[Z(l)];
        // u = RMSNorm(r);  [x | z] = in_proj(u)
        RmsNormForwardImpl(tp.rIn.data(), L, c.dModel, Mp, Wl.norm.data(), tp.u.data(), tp.rstd.data());
        kn::LinearImpl(tp.u.data(), MP, L, c.dModel, Wl.inProjT.data(), 2 * P, nullptr, tp.xz.data(), 2 * PP, false);
        // xw = [dConv-1 zero rows (zero state), x];  xpre = conv1d(xw);  xc = SiLU(xpre)
        std::memset(tp.xw.data(), 0, Z(K - 1) * PP * sizeof(float));
        for (std::size_t t = 0; t < L; ++t)
            for (std::size_t j = 0; j < PP; j += Ln) hn::StoreU(hn::LoadU(d, tp.xz.data() + t * 2 * PP + j), d, tp.xw.data() + (Z(K - 1) + t) * PP + j);
        ConvForwardImpl(tp.xw.data(), L, K, Wl.convW.data(), Wl.convB.data(), P, tp.xpre.data(), tp.xc.data());
        // [dt | B | C] = x_proj(xc);  dtLin = dt_proj(dt) + bias;  dt = softplus(dtLin)
        kn::LinearImpl(tp.xc.data(), PP, L, c.dInner(), Wl.xProjT.data(), XOP, nullptr, tp.xdb.data(), XP, false);
        kn::LinearImpl(tp.xdb.data(), XP, L, R, Wl.dtWT.data(), P, Wl.dtB.data(), tp.dtLin.data(), PP, false);
        for (std::size_t i = 0; i < L * PP; i += Ln) hn::StoreU(kn::SoftplusV(d, hn::LoadU(d, tp.dtLin.data() + i)), d, tp.dt.data() + i);
        // yss = C.h + D x over the selective scan h_t = exp(dt A) h_{t-1} + dt B x, saving checkpoints
        ScanForwardImpl(ScanIoOf(s, Wl, tp, L), Wl.D.data(), tp.hck.data(), tp.yss.data());
        // gated = yss SiLU(z);  r_next = r + out_proj(gated)
        for (std::size_t t = 0; t < L; ++t)
            for (std::size_t j = 0; j < PP; j += Ln) {
                const auto z = hn::LoadU(d, tp.xz.data() + t * 2 * PP + PP + j);
                hn::StoreU(hn::Mul(hn::LoadU(d, tp.yss.data() + t * PP + j), kn::Silu(d, z)), d, tp.gated.data() + t * PP + j);
            }
        float* rNext = l + 1 < c.nLayers ? b.layers[Z(l + 1)].rIn.data() : b.rF.data();
        std::memcpy(rNext, tp.rIn.data(), L * MP * sizeof(float));
        kn::LinearImpl(tp.gated.data(), PP, L, c.dInner(), Wl.outProjT.data(), Mp, nullptr, rNext, MP, true);
    }
    // out = headB + headW . norm_f(r) + skip * sample
    RmsNormForwardImpl(b.rF.data(), L, c.dModel, Mp, W.normF.data(), b.f.data(), b.rstdF.data());
    for (std::size_t t = 0; t < L; ++t) {
        auto a = hn::Zero(d);
        for (std::size_t j = 0; j < MP; j += Ln) a = hn::MulAdd(hn::LoadU(d, b.f.data() + t * MP + j), hn::LoadU(d, W.headW.data() + j), a);
        out[t] = W.headB + hn::GetLane(hn::SumOfLanes(d, a)) + W.skip * b.feat[t * Z(F)];
    }
}

void Backward(const FastParams& fp, FastTapeBuffers& b, const float* gOut) {
    const DF d;
    const std::size_t Ln = hn::Lanes(d);
    const FastShape& s = fp.shape;
    const Config& c = s.c;
    const FastTensors& W = fp.t;
    FastTensors& G = b.g;
    const std::size_t L = b.L;
    const int F = s.F, Mp = s.dMP, P = s.P, K = c.dConv, R = c.dtRank, N = c.dState, XOP = s.XOP, XO = c.xProjOut();
    const std::size_t MP = Z(Mp), PP = Z(P), XP = Z(XOP);

    // head: gHeadB += sum gOut;  gSkip += sum gOut x;  gHeadW += sum gOut f;  gf = gOut headW
    double gHB = 0, gSk = 0;
    for (std::size_t t = 0; t < L; ++t) {
        gHB += gOut[t];
        gSk += static_cast<double>(gOut[t]) * b.feat[t * Z(F)];
        const auto g = hn::Set(d, gOut[t]);
        for (std::size_t j = 0; j < MP; j += Ln) hn::StoreU(hn::Mul(g, hn::LoadU(d, W.headW.data() + j)), d, b.gu.data() + t * MP + j);
    }
    G.headB += static_cast<float>(gHB);
    G.skip += static_cast<float>(gSk);
    WeightGradImpl(gOut, 1, L, 1, b.f.data(), MP, Mp, G.headW.data(), MP);
    // norm_f: gr = RMSNorm backward of gf
    std::memset(b.gr.data(), 0, L * MP * sizeof(float));
    RmsNormBackwardImpl(b.rF.data(), b.rstdF.data(), L, c.dModel, Mp, W.normF.data(), b.gu.data(), b.gr.data(), G.normF.data());

    for (int l = c.nLayers - 1; l >= 0; --l) {
        auto& tp = b.layers[Z(l)];
        const auto& Wl = W.layers[Z(l)];
        auto& Gl = G.layers[Z(l)];
        // r_out = r_in + out_proj(gated):  gOutProj += gr^T gated;  gg = gr out_proj
        WeightGradImpl(b.gr.data(), MP, L, c.dModel, tp.gated.data(), PP, P, Gl.outProjB.data(), PP);
        kn::LinearImpl(b.gr.data(), MP, L, c.dModel, Wl.outProjB.data(), P, nullptr, b.gg.data(), PP, false);
        // gated = yss SiLU(z):  gz = gg yss SiLU'(z);  gyss = gg SiLU(z)
        // yss = C.h + D x:      gD += sum gyss x;   gx = gyss D
        for (std::size_t t = 0; t < L; ++t)
            for (std::size_t j = 0; j < PP; j += Ln) {
                const std::size_t i = t * PP + j;
                const auto z = hn::LoadU(d, tp.xz.data() + t * 2 * PP + PP + j);
                const auto sg = Sigmoid(d, z);
                const auto gg = hn::LoadU(d, b.gg.data() + i);
                const auto dsilu = hn::Mul(sg, hn::MulAdd(z, hn::Sub(hn::Set(d, 1.0f), sg), hn::Set(d, 1.0f)));
                hn::StoreU(hn::Mul(hn::Mul(gg, hn::LoadU(d, tp.yss.data() + i)), dsilu), d, b.gxz.data() + t * 2 * PP + PP + j);
                const auto gyss = hn::Mul(gg, hn::Mul(z, sg));
                hn::StoreU(gyss, d, b.gg.data() + i);
                hn::StoreU(hn::Mul(gyss, hn::LoadU(d, Wl.D.data() + j)), d, b.gxc.data() + i);
            }
        for (std::size_t j = 0; j < PP; j += Ln) { // gD = sum_t gyss x
            auto a = hn::Zero(d);
            for (std::size_t t = 0; t < L; ++t) a = hn::MulAdd(hn::LoadU(d, b.gg.data() + t * PP + j), hn::LoadU(d, tp.xc.data() + t * PP + j), a);
            hn::StoreU(hn::Add(hn::LoadU(d, Gl.D.data() + j), a), d, Gl.D.data() + j);
        }
        // the reverse-time scan, chunk by chunk from the last (FastScanOps-inl.h)
        const ScanIo io = ScanIoOf(s, Wl, tp, L);
        const ScanGrad sg{b.gg.data(), b.gh.data(), Gl.A.data(), b.gdt.data(), b.gxc.data(), b.gxdb.data(),
                          b.hLoc.data(), b.aLoc.data(), b.vB.data(), b.vC.data(), b.accX.data()};
        std::memset(b.gh.data(), 0, Z(N) * PP * sizeof(float));
        std::memset(b.gxdb.data(), 0, L * XP * sizeof(float));
        for (std::size_t k = (L + kCheckpoint - 1) / kCheckpoint; k-- > 0;) {
            const std::size_t t0 = k * kCheckpoint;
            ScanBackwardChunk(io, t0, std::min(kCheckpoint, L - t0), tp.hck.data() + k * Z(N) * PP, sg);
        }
        // dt = softplus(dtLin):  gdtLin = gdt sigmoid(dtLin);  gDtB += sum gdtLin
        for (std::size_t i = 0; i < L * PP; i += Ln)
            hn::StoreU(hn::Mul(hn::LoadU(d, b.gdt.data() + i), Sigmoid(d, hn::LoadU(d, tp.dtLin.data() + i))), d, b.gdt.data() + i);
        ColumnSumAcc(b.gdt.data(), PP, L, P, Gl.dtB.data());
        // dtLin = dt_proj(xdb[:, :R]):  gDtW^T += xdb[:, :R]^T gdtLin;  gxdb[:, q] += gdtLin . dtW[:, q]
        WeightGradImpl(tp.xdb.data(), XP, L, R, b.gdt.data(), PP, P, Gl.dtWT.data(), PP);
        for (std::size_t t = 0; t < L; ++t)
            for (int q = 0; q < R; ++q) b.gxdb[t * XP + Z(q)] += kn::DotRow(b.gdt.data() + t * PP, Wl.dtWT.data() + Z(q) * PP, P);
        // xdb = x_proj(xc):  gXProj += gxdb^T xc;  gxc += gxdb x_proj
        WeightGradImpl(b.gxdb.data(), XP, L, XO, tp.xc.data(), PP, P, Gl.xProjB.data(), PP);
        kn::LinearImpl(b.gxdb.data(), XP, L, XO, Wl.xProjB.data(), P, nullptr, b.gxc.data(), PP, true);
        // xc = SiLU(conv1d(xw)):  conv weights and bias, and the x half of gxz
        ConvBackwardImpl(tp.xw.data(), tp.xpre.data(), L, K, Wl.convW.data(), P, b.gxc.data(), Gl.convW.data(), Gl.convB.data(),
                         b.gxz.data(), 2 * PP);
        // [x | z] = in_proj(u):  gInProj += gxz^T u;  gu = gxz in_proj
        WeightGradImpl(b.gxz.data(), 2 * PP, L, 2 * P, tp.u.data(), MP, Mp, Gl.inProjB.data(), MP);
        kn::LinearImpl(b.gxz.data(), 2 * PP, L, 2 * P, Wl.inProjB.data(), Mp, nullptr, b.gu.data(), MP, false);
        // u = RMSNorm(r_in):  gr (residual path) += norm backward
        RmsNormBackwardImpl(tp.rIn.data(), tp.rstd.data(), L, c.dModel, Mp, Wl.norm.data(), b.gu.data(), b.gr.data(), Gl.norm.data());
    }
    // r_0 = embW feat + embB:  gEmbT += feat^T gr;  gEmbB += sum gr
    WeightGradImpl(b.feat.data(), Z(F), L, F, b.gr.data(), MP, Mp, G.embT.data(), MP);
    ColumnSumAcc(b.gr.data(), MP, L, Mp, G.embB.data());
}

} // namespace mfx::train::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mfx::train {

HWY_EXPORT(Forward);
HWY_EXPORT(Backward);

namespace {
std::size_t Z(int v) { return static_cast<std::size_t>(v); }
} // namespace

FastSegmentPass::FastSegmentPass(const Config& c) : s_(c), b_(s_) { b_.layers.resize(static_cast<std::size_t>(c.nLayers)); }

void FastSegmentPass::resize(std::size_t L) {
    b_.L = L;
    if (L <= b_.cap) return;
    b_.cap = L;
    const std::size_t MP = Z(s_.dMP), PP = Z(s_.P), XP = Z(s_.XOP), N = Z(s_.c.dState), K1 = Z(s_.c.dConv - 1);
    b_.feat.resize(L * Z(s_.F));
    for (auto& t : b_.layers) {
        t.rIn.resize(L * MP);
        t.rstd.resize(L);
        t.u.resize(L * MP);
        t.xz.resize(L * 2 * PP);
        t.xw.resize((K1 + L) * PP);
        t.xpre.resize(L * PP);
        t.xc.resize(L * PP);
        t.xdb.resize(L * XP);
        t.dtLin.resize(L * PP);
        t.dt.resize(L * PP);
        t.hck.resize((L / kCheckpoint + 1) * N * PP);
        t.yss.resize(L * PP);
        t.gated.resize(L * PP);
    }
    b_.rF.resize(L * MP);
    b_.rstdF.resize(L);
    b_.f.resize(L * MP);
    b_.gr.resize(L * MP);
    b_.gu.resize(L * MP);
    b_.gxz.resize(L * 2 * PP);
    b_.gg.resize(L * PP);
    b_.gxc.resize(L * PP);
    b_.gdt.resize(L * PP);
    b_.gxdb.resize(L * XP);
    b_.gh.resize(N * PP);
    b_.hLoc.resize((kCheckpoint + 1) * N * PP);
    b_.aLoc.resize(kCheckpoint * N * PP);
    b_.vB.resize(kCheckpoint * N * Z(kLanes));
    b_.vC.resize(kCheckpoint * N * Z(kLanes));
    b_.accX.resize(kCheckpoint * PP);
}

void FastSegmentPass::forward(const FastParams& p, const float* in, const float* cond, std::size_t L, float* out) {
    resize(L);
    HWY_DYNAMIC_DISPATCH(Forward)(p, b_, in, cond, L, out);
}

void FastSegmentPass::backward(const FastParams& p, const float* gOut, float* grad) {
    b_.g = FastTensors(s_, false); // zero
    HWY_DYNAMIC_DISPATCH(Backward)(p, b_, gOut);
    addFastGradients(p, b_.g, grad);
}

} // namespace mfx::train
#endif
