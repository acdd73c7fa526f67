// Per-target elementwise math of the CPU kernels (exp, 2^x, SiLU, softplus and the scan's decay),
// included once per SIMD target through KernelOps-inl.h. Every engine path calls these same
// functions, so their results are identical wherever a value is computed.
#if defined(MFX_ENGINE_MATH_OPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef MFX_ENGINE_MATH_OPS_INL_H_
#undef MFX_ENGINE_MATH_OPS_INL_H_
#else
#define MFX_ENGINE_MATH_OPS_INL_H_
#endif

#include "hwy/highway.h"

#include "Engine/PreparedModel.h"
#include "Engine/SoftplusTable.h"

#include <cstddef>

HWY_BEFORE_NAMESPACE();
namespace mfx::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;

// 2^y for the engine. y clamped to [-125, 127]; n = round(y) via the 1.5*2^23 shifter (the float bits
// of y + shifter hold n in the low mantissa bits), f = y - n in [-0.5, 0.5] exactly, 2^f by a
// polynomial, and 2^n added into the exponent bits with integer ops. The caller passes y = dt (A log2 e)
// with A log2 e precomputed, so no extra rounding enters: as accurate as exp with Cody-Waite reduction. kNonPositive skips the upper clamp where
// y <= 0 is known (dt*A).
template <bool kNonPositive = false, class V>
HWY_INLINE V FastExp2(DF d, V y) {
    const hn::RebindToSigned<DF> di;
    y = hn::Max(y, hn::Set(d, -125.0f));
    if (!kNonPositive) y = hn::Min(y, hn::Set(d, 127.0f));
    const V shifter = hn::Set(d, 12582912.0f); // 1.5 * 2^23
    const V kt = hn::Add(y, shifter);
    const V f = hn::Sub(y, hn::Sub(kt, shifter));
    // 2^f = e^(f ln2) by its degree-6 Taylor polynomial: 1.2e-7 at |f| = 1/2 and far smaller near
    // f = 0, where dt A ~ 0 (slow decay, long memory) makes the state most sensitive to error
    V p = hn::Set(d, 0.00015403530393381606f);
    p = hn::MulAdd(p, f, hn::Set(d, 0.0013333558146428441f));
    p = hn::MulAdd(p, f, hn::Set(d, 0.0096181291076284769f));
    p = hn::MulAdd(p, f, hn::Set(d, 0.055504108664821576f));
    p = hn::MulAdd(p, f, hn::Set(d, 0.24022650695910069f));
    p = hn::MulAdd(p, f, hn::Set(d, 0.69314718055994529f));
    p = hn::MulAdd(p, f, hn::Set(d, 1.0f));
    // bits(kt) = 0x4B400000 + n;  2^f * 2^n: add n to the exponent field of p (p in [0.70, 1.42]).
    // n << 23 = bits(kt) << 23 modulo 2^32, as 0x4B400000 << 23 overflows to 0.
    const auto n23 = hn::ShiftLeft<23>(hn::BitCast(di, kt));
    return hn::BitCast(d, hn::Add(hn::BitCast(di, p), n23));
}

// The scan's decay exp(dt A) = 2^(y16 / 16), y16 = dt (16 A log2 e) <= 0 (PreparedLayer::A16), on
// targets with 16 float lanes: n = round(y16) via the shifter, f = y16 - n in [-1/2, 1/2] exactly,
// 2^(f/16) by its degree-3 Taylor polynomial (relative error < 1e-8; exact 1 at f = 0, so slow decays
// dt A ~ 0 stay accurate), times T[n mod 16] = 2^((n mod 16) / 16) from a one-register table (a lane
// permute: the low 4 bits of bits(kt) are n mod 16), times 2^floor(n/16) added into the exponent
// bits ((bits(kt) >> 4) << 23, the 0x4B400000 offset again overflowing away). 4 multiply-pipe
// operations instead of FastExp2's 7. y16 clamped at -2000 (2^-125).
#undef MFX_SCAN_TABLE
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3 && !HWY_HAVE_SCALABLE
#define MFX_SCAN_TABLE 1
HWY_ALIGN static constexpr float kExp2Sixteenths[16] = { // 2^(j/16)
    1.0f, 1.04427378242741384f, 1.09050773266525766f, 1.13878863475669165f, 1.18920711500272107f,
    1.24185781207348405f, 1.29683955465100967f, 1.35425554693689273f, 1.41421356237309505f,
    1.47682614593949931f, 1.54221082540794082f, 1.61049033194925431f, 1.68179283050742909f,
    1.75625216037329948f, 1.83400808640934246f, 1.91520656139714729f};
template <class V>
HWY_INLINE V Exp2Sixteenths(DF d, V y16) {
    const hn::RebindToSigned<DF> di;
    y16 = hn::Max(y16, hn::Set(d, -2000.0f));
    const V shifter = hn::Set(d, 12582912.0f); // 1.5 * 2^23
    const V kt = hn::Add(y16, shifter);
    const V f = hn::Sub(y16, hn::Sub(kt, shifter));
    constexpr float c1 = 0.04332169878499658f;   // ln2 / 16
    constexpr float c2 = 9.383847928089871e-4f;  // (ln2 / 16)^2 / 2
    constexpr float c3 = 1.3550807779497455e-5f; // (ln2 / 16)^3 / 6
    V p = hn::MulAdd(hn::Set(d, c3), f, hn::Set(d, c2));
    p = hn::MulAdd(p, f, hn::Set(d, c1));
    p = hn::MulAdd(p, f, hn::Set(d, 1.0f));
    const auto bits = hn::BitCast(di, kt);
    const V t = V{_mm512_permutexvar_ps(bits.raw, hn::Load(d, kExp2Sixteenths).raw)};
    const auto e23 = hn::ShiftLeft<23>(hn::ShiftRight<4>(bits));
    return hn::BitCast(d, hn::Add(hn::BitCast(di, hn::Mul(p, t)), e23));
}
#else
#define MFX_SCAN_TABLE 0
#endif

// exp(dt A) for the selective scan from dt and A as stored for this target (ScanA).
template <class V>
HWY_INLINE V ScanDecay(DF d, V dtv, V A) {
#if MFX_SCAN_TABLE
    return Exp2Sixteenths(d, hn::Mul(dtv, A));
#else
    return FastExp2<true>(d, hn::Mul(dtv, A));
#endif
}
// (dState, dInnerP): 16 A log2 e with the table decay, A log2 e otherwise.
HWY_INLINE const float* ScanA(const PreparedLayer& L) { return MFX_SCAN_TABLE ? L.A16.data() : L.Alog2e.data(); }

// exp(x) for SiLU and softplus: x clamped to [-87.3, 88.0]; n = round(x / ln2) via the shifter,
// f = x - n ln2 with a two-part ln2 (Cody-Waite: no rounding error from the reduction), exp(f) by its
// degree-6 Taylor polynomial (|f| <= ln2/2: relative error < 2e-7), times 2^n through the exponent.
template <class V>
HWY_INLINE V FastExpPoly(DF d, V x) {
    const hn::RebindToSigned<DF> di;
    x = hn::Min(hn::Max(x, hn::Set(d, -87.3f)), hn::Set(d, 88.0f));
    const V shifter = hn::Set(d, 12582912.0f); // 1.5 * 2^23
    const V kt = hn::MulAdd(x, hn::Set(d, 1.44269504088896341f), shifter);
    const V n = hn::Sub(kt, shifter);
    V f = hn::NegMulAdd(n, hn::Set(d, 0.693359375f), x);
    f = hn::NegMulAdd(n, hn::Set(d, -2.12194440e-4f), f);
    V p = hn::Set(d, 1.0f / 720.0f);
    p = hn::MulAdd(p, f, hn::Set(d, 1.0f / 120.0f));
    p = hn::MulAdd(p, f, hn::Set(d, 1.0f / 24.0f));
    p = hn::MulAdd(p, f, hn::Set(d, 1.0f / 6.0f));
    p = hn::MulAdd(p, f, hn::Set(d, 0.5f));
    p = hn::MulAdd(p, f, hn::Set(d, 1.0f));
    p = hn::MulAdd(p, f, hn::Set(d, 1.0f));
    // bits(kt) = 0x4B400000 + n  ->  (n + 127) << 23 = 2^n
    const auto bits = hn::ShiftLeft<23>(hn::Add(hn::BitCast(di, kt), hn::Set(di, 127 - 0x4B400000)));
    return hn::Mul(p, hn::BitCast(d, bits));
}

#if MFX_SCAN_TABLE
// exp(x) on 16-lane targets, with half the latency: x clamped as above; n = round(16 x / ln2) via the
// shifter, r = x - n ln2/16 with a two-part ln2/16 (Cody-Waite, exact), exp(r) by its degree-3 Taylor
// polynomial (|r| <= ln2/32: relative error < 1e-8), times T[n mod 16] = 2^((n mod 16)/16) (table,
// one permute) and 2^floor(n/16) through the exponent bits. Relative error < 3e-7 (KernelTests).
template <class V>
HWY_INLINE V FastExp(DF d, V x) {
    const hn::RebindToSigned<DF> di;
    x = hn::Min(hn::Max(x, hn::Set(d, -87.3f)), hn::Set(d, 88.0f));
    const V shifter = hn::Set(d, 12582912.0f); // 1.5 * 2^23
    const V kt = hn::MulAdd(x, hn::Set(d, 23.083120654223414f), shifter); // 16 / ln2
    const V n = hn::Sub(kt, shifter);
    V r = hn::NegMulAdd(n, hn::Set(d, 0.693359375f / 16.0f), x);
    r = hn::NegMulAdd(n, hn::Set(d, -2.12194440e-4f / 16.0f), r);
    V p = hn::MulAdd(hn::Set(d, 1.0f / 6.0f), r, hn::Set(d, 0.5f));
    p = hn::MulAdd(p, r, hn::Set(d, 1.0f));
    p = hn::MulAdd(p, r, hn::Set(d, 1.0f));
    const auto bits = hn::BitCast(di, kt);
    const V t = V{_mm512_permutexvar_ps(bits.raw, hn::Load(d, kExp2Sixteenths).raw)};
    const auto e23 = hn::ShiftLeft<23>(hn::ShiftRight<4>(bits)); // (n >> 4) << 23; the 0x4B400000 offset overflows away
    return hn::BitCast(d, hn::Add(hn::BitCast(di, hn::Mul(p, t)), e23));
}
// exp(-v), bit for bit FastExp(d, Neg(v)) one operation shorter: the clamp, the reduction and the
// polynomial mirrored, each step the exact negation of FastExp's under round-to-nearest
// (v' = -x, r' = -r, and p r + 1 = 1 - p r'), so no sign flip is needed.
template <class V>
HWY_INLINE V FastExpNeg(DF d, V v) {
    const hn::RebindToSigned<DF> di;
    v = hn::Max(hn::Min(v, hn::Set(d, 87.3f)), hn::Set(d, -88.0f));
    const V shifter = hn::Set(d, 12582912.0f); // 1.5 * 2^23
    const V kt = hn::MulAdd(v, hn::Set(d, -23.083120654223414f), shifter); // -16 / ln2
    const V n = hn::Sub(kt, shifter);
    V r = hn::MulAdd(n, hn::Set(d, 0.693359375f / 16.0f), v);
    r = hn::MulAdd(n, hn::Set(d, -2.12194440e-4f / 16.0f), r);
    V p = hn::MulAdd(hn::Set(d, -1.0f / 6.0f), r, hn::Set(d, 0.5f));
    p = hn::NegMulAdd(p, r, hn::Set(d, 1.0f));
    p = hn::NegMulAdd(p, r, hn::Set(d, 1.0f));
    const auto bits = hn::BitCast(di, kt);
    const V t = V{_mm512_permutexvar_ps(bits.raw, hn::Load(d, kExp2Sixteenths).raw)};
    const auto e23 = hn::ShiftLeft<23>(hn::ShiftRight<4>(bits));
    return hn::BitCast(d, hn::Add(hn::BitCast(di, hn::Mul(p, t)), e23));
}
#else
template <class V>
HWY_INLINE V FastExp(DF d, V x) { return FastExpPoly(d, x); }
template <class V>
HWY_INLINE V FastExpNeg(DF d, V v) { return FastExpPoly(d, hn::Neg(v)); }
#endif

// 1/x for x >= 1 (finite): a plain division. (An estimate refined by Newton steps takes pipeline
// slots the multiply-adds need: on Zen 4, rcp14 + one step measured 2 % slower for the default model
// than the division, at block 1 and at 512 (2026-12-03), and rcpps + two steps on the AVX2 path
// 15 % slower; the divider runs beside the FMA pipes.)
template <class V>
HWY_INLINE V FastRecip(DF d, V x) {
    return hn::Div(hn::Set(d, 1.0f), x);
}

// SiLU(v) = v / (1 + exp(-v))
template <class V>
HWY_INLINE V Silu(DF d, V v) {
    return hn::Mul(v, FastRecip(d, hn::Add(hn::Set(d, 1.0f), FastExpNeg(d, v))));
}

#if MFX_SCAN_TABLE
// softplus(x) = log1p(exp(x)) = max(x, 0) + g(t), g(t) = log1p(exp(-t)), t = |x|, on 16-lane targets:
// for t <= 31.49, j = round(t) via the shifter (the low 5 bits of bits(kt) are j), u = t - j in
// [-1/2, 1/2] exactly, g = sum_k c[k][j] u^k (SoftplusTable: degree 6 per unit interval, each
// coefficient fetched by one two-register permute; Estrin's scheme, 4 dependent steps). No exp, no
// division: about a third of the latency of exp + reciprocal + series (the dt chain of every layer
// waits on it) and fewer operations. t > 31.49 leaves g at g(31.49) < 2.2e-14, below half an ulp of
// x for x > 0; lanes with x < -31, where softplus = exp(x) within 1e-13 relative, take FastExp (a
// branch taken only when such a lane is present). Relative error < 3e-7 (KernelTests).
template <class V>
HWY_INLINE V SoftplusV(DF d, V x) {
    const hn::RebindToSigned<DF> di;
    const V t = hn::Min(hn::Abs(x), hn::Set(d, 31.49f));
    const V shifter = hn::Set(d, 12582912.0f); // 1.5 * 2^23
    const V kt = hn::Add(t, shifter);
    const V u = hn::Sub(t, hn::Sub(kt, shifter));
    const auto j = hn::BitCast(di, kt).raw;
    const float(&c)[SoftplusTable::kDegree + 1][SoftplusTable::kIntervals] = kSoftplusTable.c;
    const auto coef = [&](int k) { return V{_mm512_permutex2var_ps(hn::Load(d, c[k]).raw, j, hn::Load(d, c[k] + 16).raw)}; };
    const V u2 = hn::Mul(u, u);
    const V p01 = hn::MulAdd(coef(1), u, coef(0));
    const V p23 = hn::MulAdd(coef(3), u, coef(2));
    const V p45 = hn::MulAdd(coef(5), u, coef(4));
    const V u4 = hn::Mul(u2, u2);
    const V p03 = hn::MulAdd(p23, u2, p01);
    const V p46 = hn::MulAdd(coef(6), u2, p45);
    V r = hn::Add(hn::MulAdd(p46, u4, p03), hn::Max(x, hn::Zero(d)));
    const auto tail = hn::Lt(x, hn::Set(d, -31.0f));
    if (HWY_UNLIKELY(!hn::AllFalse(d, tail))) r = hn::IfThenElse(tail, FastExp(d, x), r);
    return r;
}
#else
// softplus(x) = log1p(exp(x)) = max(x, 0) + log1p(t), t = exp(-|x|) in (0, 1], with
// log1p(t) = 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ... + s^12/13), s = t / (2 + t) in (0, 1/3]
// (truncation < 2e-8 relative; the series in w = s^2 evaluated Estrin-style for a short latency).
// Relative error < 1e-6 (KernelTests); for x > 17 the log1p term is below half an ulp of x, so
// large inputs pass through unchanged.
template <class V>
HWY_INLINE V SoftplusV(DF d, V x) {
    const V t = FastExp(d, hn::Neg(hn::Abs(x)));
    const V s = hn::Mul(t, FastRecip(d, hn::Add(hn::Set(d, 2.0f), t)));
    const V w = hn::Mul(s, s);
    const V w2 = hn::Mul(w, w);
    const V q01 = hn::MulAdd(w, hn::Set(d, 1.0f / 3.0f), hn::Set(d, 1.0f));
    const V q23 = hn::MulAdd(w, hn::Set(d, 1.0f / 7.0f), hn::Set(d, 1.0f / 5.0f));
    const V q45 = hn::MulAdd(w, hn::Set(d, 1.0f / 11.0f), hn::Set(d, 1.0f / 9.0f));
    const V q456 = hn::MulAdd(w2, hn::Set(d, 1.0f / 13.0f), q45);
    const V q = hn::MulAdd(hn::Mul(w2, w2), q456, hn::MulAdd(w2, q23, q01));
    return hn::MulAdd(hn::Add(s, s), q, hn::Max(x, hn::Zero(d)));
}
#endif

} // namespace mfx::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif // MFX_ENGINE_MATH_OPS_INL_H_
