// Dynamic dispatch of the CPU kernels (Highway): this file is compiled once per SIMD target by
// foreach_target.h. The block sequence below is the model, layer by layer, over a block of rows; it
// is written once and runs inline (real-time engine: one dispatch per block) or over a thread pool
// (offline path), with identical arithmetic per output sample either way.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "Engine/Kernels.cpp"
#include "hwy/foreach_target.h" // IWYU pragma: keep
#include "hwy/highway.h"

#include "Engine/BlockRunner.h"
#include "Engine/KernelOps-inl.h"
#include "Engine/Kernels.h"
#include "Engine/SampleStep-inl.h"
#include "Engine/Sanitize.h"

#include <algorithm>
#include <cstring>
#include <strings.h>

HWY_BEFORE_NAMESPACE();
namespace mfx::kernels::HWY_NAMESPACE {

constexpr std::size_t kRowGrain = 256; // rows per parallel task (offline path)
inline std::size_t Z(int v) { return static_cast<std::size_t>(v); }

struct Inline {
    template <class F>
    void operator()(std::size_t n, std::size_t, F&& f) const { if (n > 0) f(std::size_t{0}, n); }
};
struct Pooled {
    Executor& ex;
    template <class F>
    void operator()(std::size_t n, std::size_t grain, F&& f) const { ex.parallelFor(n, grain, f); }
};

// The time-chunked selective scan (offline, ScanMode::TimeChunked): chunks k of the block's rows,
//   pass 1 (parallel): h_k = scan of chunk k from h = 0;  S_k = sum_t dt[t] over chunk k
//   pass 2 (in order): H_0 = h;  H_{k+1} = exp(A S_k) * H_k + h_k    (exp(A S_k) = prod_t exp(dt[t] A))
//   pass 3 (parallel): scan chunk k again from H_k, writing y;  h = the last chunk's final state
// dst[i] = src[i] for i < n (n a multiple of kLanes): inline, cheaper than a memcpy call for the
// few hundred floats of a conv window.
HWY_INLINE void CopyFloats(float* HWY_RESTRICT dst, const float* HWY_RESTRICT src, std::size_t n) {
    const DF d;
    for (std::size_t i = 0; i < n; i += hn::Lanes(d)) hn::StoreU(hn::LoadU(d, src + i), d, dst + i);
}

template <class Par>
HWY_INLINE void ChunkedScan(const PreparedModel& pm, const PreparedLayer& L, float* h, BlockScratch& s, std::size_t rows, Par par) {
    const Config& c = pm.config();
    const int P = pm.dInnerP, N = c.dState, BCp = pm.bcP;
    const std::size_t PP = Z(P), NP = Z(N) * PP, K = Z(s.numChunks);
    const std::size_t len = (rows + K - 1) / K;
    const std::size_t groups = PP / Z(kLanes);
    auto chunkRows = [&](std::size_t k, std::size_t& b, std::size_t& e) {
        b = std::min(rows, k * len);
        e = std::min(rows, b + len);
    };
    auto scanChunk = [&](std::size_t k, std::size_t g, float* hk) {
        std::size_t b, e;
        chunkRows(k, b, e);
        if (e > b)
            SelectiveScanImpl(e - b, N, P, static_cast<int>(g) * kLanes, static_cast<int>(g + 1) * kLanes, ScanA(L), L.D.data(),
                              s.dt.data() + b * PP, s.xc.data() + b * PP, s.bc.data() + b * Z(BCp), BCp,
                              s.xz.data() + b * 2 * PP, hk, s.y.data() + b * PP);
    };
    const DF d;
    const std::size_t Ln = hn::Lanes(d);
    // pass 1: local scans from zero, and the sum of dt per chunk and lane
    par(K * groups, 1, [&](std::size_t b0, std::size_t e0) {
        for (std::size_t i = b0; i < e0; ++i) {
            const std::size_t k = i / groups, g = i % groups;
            float* hk = s.chunkH.data() + k * NP;
            for (int n = 0; n < N; ++n) std::memset(hk + Z(n) * PP + g * Z(kLanes), 0, Z(kLanes) * sizeof(float));
            scanChunk(k, g, hk);
            std::size_t b, e;
            chunkRows(k, b, e);
            for (std::size_t l = g * Z(kLanes); l < (g + 1) * Z(kLanes); l += Ln) {
                // Kahan-compensated: a plain float sum over thousands of steps loses ~1e-4 relative,
                // which exp(A S) turns into a visible error of the carried state
                auto sum = hn::Zero(d), comp = hn::Zero(d);
                for (std::size_t t = b; t < e; ++t) {
                    const auto yv = hn::Sub(hn::LoadU(d, s.dt.data() + t * PP + l), comp);
                    const auto tv = hn::Add(sum, yv);
                    comp = hn::Sub(hn::Sub(tv, sum), yv);
                    sum = tv;
                }
                hn::StoreU(sum, d, s.chunkS.data() + k * PP + l);
            }
        }
    });
    // pass 2: combine the carries in order; chunkH[k] becomes chunk k's true initial state
    for (std::size_t k = 0; k < K; ++k) {
        float* hk = s.chunkH.data() + k * NP;
        for (int n = 0; n < N; ++n)
            for (std::size_t l = 0; l < PP; l += Ln) {
                const std::size_t o = Z(n) * PP + l;
                const auto decay = FastExp2<true>(d, hn::Mul(hn::LoadU(d, L.Alog2e.data() + o), hn::LoadU(d, s.chunkS.data() + k * PP + l)));
                const auto local = hn::LoadU(d, hk + o);
                const auto H = hn::LoadU(d, h + o);
                hn::StoreU(H, d, hk + o);                         // H_k
                hn::StoreU(hn::MulAdd(decay, H, local), d, h + o); // H_{k+1}
            }
    }
    // pass 3: every chunk from its true initial state; the last one's end state is the block's
    par(K * groups, 1, [&](std::size_t b0, std::size_t e0) {
        for (std::size_t i = b0; i < e0; ++i) scanChunk(i / groups, i % groups, s.chunkH.data() + (i / groups) * NP);
    });
    std::memcpy(h, s.chunkH.data() + (K - 1) * NP, NP * sizeof(float));
}

template <class Par>
HWY_INLINE void RunBlockT(const PreparedModel& pm, ChannelState& st, BlockScratch& s, const BlockIo& io, Par par) {
    const Config& c = pm.config();
    const int F = 1 + c.nCond, Mp = pm.dModelP, P = pm.dInnerP, K1 = c.dConv - 1, R = c.dtRank, BCp = pm.bcP;
    const std::size_t MP = Z(Mp), PP = Z(P), BCP = Z(BCp), rows = io.rows;

    // features = [sanitize(sample), sanitize(cond...)]
    for (std::size_t t = 0; t < rows; ++t) {
        s.inSan[t] = sanitizeSample(io.in[t]);
        s.feat[t * Z(F)] = s.inSan[t];
        for (int j = 0; j < c.nCond; ++j)
            s.feat[t * Z(F) + Z(1 + j)] = sanitizeSample(io.cond ? io.cond[t * io.condStride + Z(j)] : io.held[j]);
    }
    // r = embedding(features)
    par(rows, kRowGrain, [&](std::size_t b, std::size_t e) {
        LinearImpl(s.feat.data() + b * Z(F), Z(F), e - b, F, pm.embT.data(), Mp, pm.embB.data(), s.r.data() + b * MP, MP, false);
    });
    for (int l = 0; l < c.nLayers; ++l) {
        const PreparedLayer& L = pm.layers[Z(l)];
        // [x | z] = in_proj(RMSNorm(r)) = s * (r inProjT'), s the row's RMS scale;  window rows dConv-1+t = x[t]
        par(rows, kRowGrain, [&](std::size_t b, std::size_t e) {
            RmsScaleImpl(s.r.data() + b * MP, e - b, c.dModel, Mp, kNormEps, s.scale.data() + b);
            LinearImpl(s.r.data() + b * MP, MP, e - b, c.dModel, L.inProjT.data(), 2 * P, nullptr, s.xz.data() + b * 2 * PP, 2 * PP, false,
                       s.scale.data() + b);
            for (std::size_t t = b; t < e; ++t) CopyFloats(s.window.data() + (Z(K1) + t) * PP, s.xz.data() + t * 2 * PP, PP);
        });
        // window rows [0, dConv-1) = conv state;  xc = SiLU(conv1d(window));  then conv state = last dConv-1 rows
        CopyFloats(s.window.data(), st.conv[Z(l)].data(), Z(K1) * PP);
        par(rows, kRowGrain, [&](std::size_t b, std::size_t e) {
            ConvSiluImpl(s.window.data() + b * PP, e - b, c.dConv, L.convW.data(), L.convB.data(), P, s.xc.data() + b * PP);
            // x_proj(xc): its dt part by dot products (DtDotImpl), dt = softplus(dt_proj(that) + dt_proj.bias); then [B | C]
            DtDotImpl(s.xc.data() + b * PP, e - b, P, L.xProjDt.data(), R, s.dtr.data() + b * Z(R));
            LinearImpl(s.dtr.data() + b * Z(R), Z(R), e - b, R, L.dtProjT.data(), P, L.dtBias.data(), s.dt.data() + b * PP, PP, false);
            LinearImpl(s.xc.data() + b * PP, PP, e - b, c.dInner(), L.xProjBC.data(), BCp, nullptr, s.bc.data() + b * BCP, BCP, false);
            SoftplusImpl(s.dt.data() + b * PP, (e - b) * PP);
        });
        CopyFloats(st.conv[Z(l)].data(), s.window.data() + rows * PP, Z(K1) * PP);
        // the selective scan: lane groups in parallel, each sequential in time (or time-chunked, offline)
        if (s.numChunks > 1 && rows >= Z(s.numChunks) * 64) ChunkedScan(pm, L, st.ssm[Z(l)].data(), s, rows, par);
        else par(PP / Z(kLanes), 1, [&](std::size_t b, std::size_t e) {
            SelectiveScanImpl(rows, c.dState, P, static_cast<int>(b) * kLanes, static_cast<int>(e) * kLanes, ScanA(L), L.D.data(),
                              s.dt.data(), s.xc.data(), s.bc.data(), BCp, s.xz.data(), st.ssm[Z(l)].data(), s.y.data());
        });
        // r = r + out_proj(y)
        par(rows, kRowGrain, [&](std::size_t b, std::size_t e) {
            LinearImpl(s.y.data() + b * PP, PP, e - b, c.dInner(), L.outProjT.data(), Mp, nullptr, s.r.data() + b * MP, MP, true);
        });
    }
    // out = head(norm_f(r)) + skip * sample = headB + s (r . headW') + skip * sample
    par(rows, kRowGrain, [&](std::size_t b, std::size_t e) {
        RmsScaleImpl(s.r.data() + b * MP, e - b, c.dModel, Mp, kNormEps, s.scale.data() + b);
        HeadImpl(s.r.data() + b * MP, e - b, Mp, pm.headW.data(), pm.headB, pm.skip, s.scale.data() + b, s.inSan.data() + b, io.out + b);
    });
}

// The shapes with a one-sample path (SampleStep-inl.h), used for blocks of up to kSampleStepMaxRows
// rows: beyond, the block path's overlap of independent rows wins (Zen 4, reference size, ns/sample
// one-sample vs block path: 1 row 467 vs 557, 2 rows 451 vs 489, 3 rows 444 vs 457, 4 rows 443 vs
// 445, 6 rows 439 vs 428). Any number of layers and conditioning inputs. The shapes: the 2-layer
// reference size (dModel 16, dInner 32, dState 16) and the narrow deep sizes of `mambafx train
// --size` and the default model (dModel 8, dInner 16, dState 4 or 8), where the block path's per-
// kernel set-up for a single row costs more than the arithmetic; for those only single rows (10
// layers, dState 4, ns/sample one-sample vs block path: 1 row 908 vs 1187, 2 rows 900 vs 737:
// a deep model's one sample is one long dependency chain, two rows already overlap in the block path).
using ReferenceShape = Shape<16, 32, 16, 4, 1>;
using NarrowShape4 = Shape<8, 16, 4, 4, 1>;
using NarrowShape8 = Shape<8, 16, 8, 4, 1>;
constexpr std::size_t kSampleStepMaxRows = 4;

// True (and the rows done) where a one-sample path exists for the model's shape.
HWY_INLINE bool TrySamples(const PreparedModel& pm, ChannelState& st, const BlockIo& io) {
    if (io.rows > kSampleStepMaxRows) return false;
    if (ReferenceShape::matches(pm)) RunSamples<ReferenceShape>(pm, st, io);
    else if (io.rows == 1 && NarrowShape4::matches(pm)) RunSamples<NarrowShape4>(pm, st, io);
    else if (io.rows == 1 && NarrowShape8::matches(pm)) RunSamples<NarrowShape8>(pm, st, io);
    else return false;
    return true;
}

void RunBlock(const PreparedModel& pm, ChannelState& st, BlockScratch& s, const BlockIo& io, Executor* ex) {
    if (ex) RunBlockT(pm, st, s, io, Pooled{*ex});
    else if (!TrySamples(pm, st, io)) RunBlockT(pm, st, s, io, Inline{});
}

// Thin exported forms of the single ops, for tests and other callers.
void Linear(const float* x, std::size_t xStride, std::size_t rows, int inDim, const float* Wt, int outP, const float* bias,
            float* y, std::size_t yStride, bool accumulate) { LinearImpl(x, xStride, rows, inDim, Wt, outP, bias, y, yStride, accumulate); }
void Softplus(float* v, std::size_t n) { SoftplusImpl(v, n); }
void ExpArray(const float* x, float* y, std::size_t n) {
    const DF d;
    for (std::size_t i = 0; i < n; i += hn::Lanes(d)) hn::StoreU(FastExp(d, hn::LoadU(d, x + i)), d, y + i);
}
void ExpNegArray(const float* x, float* y, std::size_t n) {
    const DF d;
    for (std::size_t i = 0; i < n; i += hn::Lanes(d)) hn::StoreU(FastExpNeg(d, hn::LoadU(d, x + i)), d, y + i);
}
void Exp2Array(const float* x, float* y, std::size_t n) {
    const DF d;
    for (std::size_t i = 0; i < n; i += hn::Lanes(d)) hn::StoreU(FastExp2(d, hn::LoadU(d, x + i)), d, y + i);
}
void SiluArray(const float* x, float* y, std::size_t n) {
    const DF d;
    for (std::size_t i = 0; i < n; i += hn::Lanes(d)) hn::StoreU(Silu(d, hn::LoadU(d, x + i)), d, y + i);
}
const char* DispatchedTarget() { return hwy::TargetName(HWY_TARGET); } // the target this copy was compiled for

void ScanDecayArray(const float* x, float* y, std::size_t n) {
    const DF d;
    const auto scale = hn::Set(d, MFX_SCAN_TABLE ? 16.0f : 1.0f); // as ScanA scales A
    for (std::size_t i = 0; i < n; i += hn::Lanes(d)) hn::StoreU(ScanDecay(d, hn::Set(d, 1.0f), hn::Mul(scale, hn::LoadU(d, x + i))), d, y + i);
}

} // namespace mfx::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace mfx::kernels {

HWY_EXPORT(RunBlock);
HWY_EXPORT(Linear);
HWY_EXPORT(Softplus);
HWY_EXPORT(ExpArray);
HWY_EXPORT(ExpNegArray);
HWY_EXPORT(Exp2Array);
HWY_EXPORT(ScanDecayArray);
HWY_EXPORT(SiluArray);
HWY_EXPORT(DispatchedTarget);

void runBlock(const PreparedModel& pm, ChannelState& st, BlockScratch& s, const BlockIo& io, Executor* ex) noexcept {
    HWY_DYNAMIC_DISPATCH(RunBlock)(pm, st, s, io, ex);
}
void linear(const float* x, std::size_t xStride, std::size_t rows, int inDim, const float* Wt, int outP, const float* bias,
            float* y, std::size_t yStride, bool accumulate) noexcept {
    HWY_DYNAMIC_DISPATCH(Linear)(x, xStride, rows, inDim, Wt, outP, bias, y, yStride, accumulate);
}
void softplus(float* v, std::size_t n) noexcept { HWY_DYNAMIC_DISPATCH(Softplus)(v, n); }
void fastExp(const float* x, float* y, std::size_t n) noexcept { HWY_DYNAMIC_DISPATCH(ExpArray)(x, y, n); }
void fastExpNeg(const float* x, float* y, std::size_t n) noexcept { HWY_DYNAMIC_DISPATCH(ExpNegArray)(x, y, n); }
void fastExp2(const float* x, float* y, std::size_t n) noexcept { HWY_DYNAMIC_DISPATCH(Exp2Array)(x, y, n); }
void scanDecay(const float* x, float* y, std::size_t n) noexcept { HWY_DYNAMIC_DISPATCH(ScanDecayArray)(x, y, n); }
void silu(const float* x, float* y, std::size_t n) noexcept { HWY_DYNAMIC_DISPATCH(SiluArray)(x, y, n); }

// Highway lists better targets at lower bits; dynamic dispatch picks the best supported one.
// The name from a dispatched call: what the kernels really run, not what the CPU supports. (Computing
// it from hwy::SupportedTargets() instead undid limitTargets(): Highway 1.0.3's SupportedTargets()
// points dispatch at every detected target again before applying DisableTargets.)
const char* targetName() noexcept { return HWY_DYNAMIC_DISPATCH(DispatchedTarget)(); }

bool limitTargets(const char* name, const char** available) {
    static char list[256]; // the names, for the caller's message; written before any return
    list[0] = '\0';
    int64_t found = 0;
    for (const int64_t t : hwy::SupportedAndGeneratedTargets()) {
        const char* n = hwy::TargetName(t);
        if (list[0]) std::strncat(list, ", ", sizeof list - std::strlen(list) - 1);
        std::strncat(list, n, sizeof list - std::strlen(list) - 1);
        if (strcasecmp(n, name) == 0) found = t;
    }
    if (available) *available = list;
    if (!found) {
        hwy::GetChosenTarget().Update(hwy::SupportedTargets()); // the listing reset dispatch (see targetName)
        return false;
    }
    hwy::DisableTargets(found - 1); // every better target (the lower bits)
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
    return true;
}

} // namespace mfx::kernels
#endif
