// Forward with saved activations and the exact backward pass of the whole model over one segment.
// The formula of each step stands above it; the kernels are in TapeKernels.h.
#include "Tape.h"
#include "TapeKernels.h"
#include "../Engine/Sanitize.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace mfx::train {

using namespace detail;


template <typename T>
PreparedParams<T>::PreparedParams(const Config& c) : layout(c), flat(layout.total), layers(static_cast<std::size_t>(c.nLayers)) {
    p = viewParams<const T>(layout, flat.data());
}

template <typename T>
void PreparedParams<T>::set(const std::vector<double>& src) {
    const Config& c = layout.config;
    for (std::size_t i = 0; i < flat.size(); ++i) flat[i] = static_cast<T>(src[i]);
    const int dM = c.dModel, dI = c.dInner(), N = c.dState, K = c.dConv, R = c.dtRank, XO = c.xProjOut();
    auto transpose = [](const T* W, int rows, int cols, std::vector<T>& out) {
        out.resize(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));
        for (int r = 0; r < rows; ++r)
            for (int col = 0; col < cols; ++col)
                out[static_cast<std::size_t>(col) * static_cast<std::size_t>(rows) + static_cast<std::size_t>(r)] =
                    W[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(col)];
    };
    for (int l = 0; l < c.nLayers; ++l) {
        const auto& w = p.layers[static_cast<std::size_t>(l)];
        auto& L = layers[static_cast<std::size_t>(l)];
        transpose(w.inProj, 2 * dI, dM, L.inProjT);
        transpose(w.xProj, XO, dI, L.xProjT);
        transpose(w.dtWeight, dI, R, L.dtWT);
        transpose(w.outProj, dM, dI, L.outProjT);
        transpose(w.convWeight, dI, K, L.convWT);
        L.A.resize(static_cast<std::size_t>(dI) * static_cast<std::size_t>(N));
        for (std::size_t i = 0; i < L.A.size(); ++i) L.A[i] = -std::exp(w.ALog[i]);
    }
}

template <typename T>
SegmentPass<T>::SegmentPass(const Config& c) : c_(c), tape_(static_cast<std::size_t>(c.nLayers)) {}

template <typename T>
void SegmentPass<T>::resize(std::size_t L) {
    L_ = L;
    if (L <= cap_) return;
    cap_ = L;
    const std::size_t dM = static_cast<std::size_t>(c_.dModel), dI = static_cast<std::size_t>(c_.dInner()),
                      N = static_cast<std::size_t>(c_.dState), XO = static_cast<std::size_t>(c_.xProjOut());
    grow(feat_, L * static_cast<std::size_t>(1 + c_.nCond));
    for (auto& t : tape_) {
        grow(t.rIn, L * dM);
        grow(t.rstd, L);
        grow(t.u, L * dM);
        grow(t.xz, L * 2 * dI);
        grow(t.xpre, L * dI);
        grow(t.xc, L * dI);
        grow(t.xdb, L * XO);
        grow(t.dtLin, L * dI);
        grow(t.dt, L * dI);
        grow(t.H, (L + 1) * dI * N);
        grow(t.yss, L * dI);
    }
    grow(rF_, L * dM);
    grow(rstdF_, L);
    grow(f_, L * dM);
    grow(gr_, L * dM);
    grow(gu_, L * dM);
    grow(gxz_, L * 2 * dI);
    grow(gxc_, L * dI);
    grow(gyss_, L * dI);
    grow(gdt_, L * dI);
    grow(gxdb_, L * XO);
    grow(gh_, dI * N);
}

template <typename T>
void SegmentPass<T>::forward(const PreparedParams<T>& pp, const float* in, const float* cond, std::size_t L, T* out,
                             const StateT<T>* initial, StateT<T>* final) {
    resize(L);
    const Config& c = c_;
    const int dM = c.dModel, dI = c.dInner(), N = c.dState, K = c.dConv, R = c.dtRank, XO = c.xProjOut(), F = 1 + c.nCond;
    const std::size_t sdM = static_cast<std::size_t>(dM), sdI = static_cast<std::size_t>(dI),
                      sN = static_cast<std::size_t>(N), sXO = static_cast<std::size_t>(XO), sF = static_cast<std::size_t>(F);
    const auto& P = pp.p;

    // feat = [sample, cond...] (sanitised as every engine does)
    for (std::size_t t = 0; t < L; ++t) {
        feat_[t * sF] = static_cast<T>(sanitizeSample(in[t]));
        for (int j = 1; j < F; ++j)
            feat_[t * sF + static_cast<std::size_t>(j)] =
                cond ? static_cast<T>(sanitizeSample(cond[t * static_cast<std::size_t>(c.nCond) + static_cast<std::size_t>(j - 1)])) : T(0);
    }
    // r = embedding(feat)   (rIn of layer 0, or rF_ when there are no layers)
    T* r = c.nLayers > 0 ? tape_[0].rIn.data() : rF_.data();
    for (std::size_t t = 0; t < L; ++t)
        for (int i = 0; i < dM; ++i) {
            T acc = P.embBias[i];
            for (int j = 0; j < F; ++j) acc += P.embWeight[static_cast<std::size_t>(i * F + j)] * feat_[t * sF + static_cast<std::size_t>(j)];
            r[t * sdM + static_cast<std::size_t>(i)] = acc;
        }

    for (int l = 0; l < c.nLayers; ++l) {
        auto& tp = tape_[static_cast<std::size_t>(l)];
        const auto& W = P.layers[static_cast<std::size_t>(l)];
        const auto& WL = pp.layers[static_cast<std::size_t>(l)];
        // u = RMSNorm(r)
        rmsNormForward(tp.rIn.data(), L, dM, W.norm, tp.u.data(), tp.rstd.data());
        // xz = in_proj(u)
        matmulT(tp.u.data(), L, dM, WL.inProjT.data(), 2 * dI, tp.xz.data(), false);
        // conv history (dConv-1, dInner) from the initial state's (dInner, dConv-1)
        tp.hist.assign(static_cast<std::size_t>(K - 1) * sdI, T(0));
        if (initial)
            for (int d = 0; d < dI; ++d)
                for (int k = 0; k < K - 1; ++k)
                    tp.hist[static_cast<std::size_t>(k) * sdI + static_cast<std::size_t>(d)] =
                        initial->layers[static_cast<std::size_t>(l)].conv[static_cast<std::size_t>(d * (K - 1) + k)];
        // xpre[t, d] = conv1d.bias[d] + sum_k w[d, k] * x[t - (K-1) + k, d];  xc = SiLU(xpre)
        for (std::size_t t = 0; t < L; ++t) {
            T* o = tp.xpre.data() + t * sdI;
            std::copy(W.convBias, W.convBias + dI, o);
            for (int k = 0; k < K; ++k) {
                const long tau = static_cast<long>(t) - (K - 1) + k;
                const T* src = tau >= 0 ? tp.xz.data() + static_cast<std::size_t>(tau) * 2 * sdI
                                        : tp.hist.data() + static_cast<std::size_t>(tau + K - 1) * sdI;
                const T* w = WL.convWT.data() + static_cast<std::size_t>(k) * sdI;
                for (int d = 0; d < dI; ++d) o[d] += w[d] * src[d];
            }
            T* xc = tp.xc.data() + t * sdI;
            for (int d = 0; d < dI; ++d) xc[d] = o[d] * sigmoid(o[d]);
        }
        // xdb = x_proj(xc) = (dt | B | C)
        matmulT(tp.xc.data(), L, dI, WL.xProjT.data(), XO, tp.xdb.data(), false);
        // dtLin = dt_proj(xdb[:R]) + bias;  dt = softplus(dtLin), inputs > 20 pass through
        for (std::size_t t = 0; t < L; ++t) {
            T* o = tp.dtLin.data() + t * sdI;
            std::copy(W.dtBias, W.dtBias + dI, o);
            for (int q = 0; q < R; ++q) {
                const T a = tp.xdb[t * sXO + static_cast<std::size_t>(q)];
                const T* w = WL.dtWT.data() + static_cast<std::size_t>(q) * sdI;
                for (int d = 0; d < dI; ++d) o[d] += a * w[d];
            }
            T* dt = tp.dt.data() + t * sdI;
            for (int d = 0; d < dI; ++d) dt[d] = o[d] > T(20) ? o[d] : std::log1p(std::exp(o[d]));
        }
        // Selective scan: h_t = exp(dt*A) h_{t-1} + dt*B_t*x_t;  yss = C_t.h_t + D*x_t
        T* H = tp.H.data();
        if (initial)
            std::copy(initial->layers[static_cast<std::size_t>(l)].ssm.begin(), initial->layers[static_cast<std::size_t>(l)].ssm.end(), H);
        else
            std::fill(H, H + sdI * sN, T(0));
        std::vector<T> aTmp(sN); // (dState) exp(dt*A) of one channel
        for (std::size_t t = 0; t < L; ++t) {
            const T* B = tp.xdb.data() + t * sXO + static_cast<std::size_t>(R);
            const T* C = B + sN;
            const T* hp = H + t * sdI * sN;
            T* hc = H + (t + 1) * sdI * sN;
            const T* dt = tp.dt.data() + t * sdI;
            const T* x = tp.xc.data() + t * sdI;
            T* y = tp.yss.data() + t * sdI;
            for (int d = 0; d < dI; ++d) {
                const T dtd = dt[d], dx = dtd * x[d];
                const T* A = WL.A.data() + static_cast<std::size_t>(d) * sN;
                const T* hpd = hp + static_cast<std::size_t>(d) * sN;
                T* hcd = hc + static_cast<std::size_t>(d) * sN;
                T* __restrict a = aTmp.data();
                for (int n = 0; n < N; ++n) a[n] = scanExp(dtd * A[n]);
                for (int n = 0; n < N; ++n) hcd[n] = a[n] * hpd[n] + dx * B[n];
                T acc = 0;
                for (int n = 0; n < N; ++n) acc += C[n] * hcd[n];
                y[d] = acc + W.D[d] * x[d];
            }
        }
        // out = out_proj(yss * SiLU(z)); r_next = r + out. The gated value is reused as scratch (gxc_).
        T* gated = gxc_.data();
        for (std::size_t t = 0; t < L; ++t)
            for (int d = 0; d < dI; ++d) {
                const T z = tp.xz[t * 2 * sdI + sdI + static_cast<std::size_t>(d)];
                gated[t * sdI + static_cast<std::size_t>(d)] = tp.yss[t * sdI + static_cast<std::size_t>(d)] * z * sigmoid(z);
            }
        T* rNext = l + 1 < c.nLayers ? tape_[static_cast<std::size_t>(l + 1)].rIn.data() : rF_.data();
        std::copy(tp.rIn.data(), tp.rIn.data() + L * sdM, rNext);
        matmulT(gated, L, dI, WL.outProjT.data(), dM, rNext, true);

        if (final) {
            auto& fs = final->layers[static_cast<std::size_t>(l)];
            fs.conv.assign(static_cast<std::size_t>(dI * (K - 1)), T(0));
            for (int d = 0; d < dI; ++d)
                for (int k = 0; k < K - 1; ++k) {
                    const long tau = static_cast<long>(L) - (K - 1) + k;
                    fs.conv[static_cast<std::size_t>(d * (K - 1) + k)] =
                        tau >= 0 ? tp.xz[static_cast<std::size_t>(tau) * 2 * sdI + static_cast<std::size_t>(d)]
                                 : tp.hist[static_cast<std::size_t>(tau + K - 1) * sdI + static_cast<std::size_t>(d)];
                }
            fs.ssm.assign(H + L * sdI * sN, H + (L + 1) * sdI * sN);
        }
    }
    // y = head(norm_f(r)) + skip * sample
    rmsNormForward(rF_.data(), L, dM, P.normF, f_.data(), rstdF_.data());
    for (std::size_t t = 0; t < L; ++t) {
        T y = P.headBias[0];
        for (int i = 0; i < dM; ++i) y += P.headWeight[i] * f_[t * sdM + static_cast<std::size_t>(i)];
        out[t] = y + P.skip[0] * feat_[t * sF];
    }
}

template <typename T>
void SegmentPass<T>::backward(const PreparedParams<T>& pp, const T* gOut, T* grad) {
    const std::size_t L = L_;
    const Config& c = c_;
    const int dM = c.dModel, dI = c.dInner(), N = c.dState, K = c.dConv, R = c.dtRank, XO = c.xProjOut(), F = 1 + c.nCond;
    const std::size_t sdM = static_cast<std::size_t>(dM), sdI = static_cast<std::size_t>(dI),
                      sN = static_cast<std::size_t>(N), sXO = static_cast<std::size_t>(XO), sF = static_cast<std::size_t>(F);
    const auto& P = pp.p;
    ParamView<T> G = viewParams<T>(pp.layout, grad);

    // Head: y = headW . f + headB + skip * sample
    std::fill(gu_.begin(), gu_.begin() + static_cast<long>(L * sdM), T(0)); // gf
    for (std::size_t t = 0; t < L; ++t) {
        const T g = gOut[t];
        G.headBias[0] += g;
        G.skip[0] += g * feat_[t * sF];
        for (int i = 0; i < dM; ++i) {
            G.headWeight[i] += g * f_[t * sdM + static_cast<std::size_t>(i)];
            gu_[t * sdM + static_cast<std::size_t>(i)] = g * P.headWeight[i];
        }
    }
    // norm_f
    std::fill(gr_.begin(), gr_.begin() + static_cast<long>(L * sdM), T(0));
    rmsNormBackward(rF_.data(), rstdF_.data(), L, dM, P.normF, gu_.data(), gr_.data(), G.normF);

    for (int l = c.nLayers - 1; l >= 0; --l) {
        auto& tp = tape_[static_cast<std::size_t>(l)];
        const auto& W = P.layers[static_cast<std::size_t>(l)];
        const auto& WL = pp.layers[static_cast<std::size_t>(l)];
        auto& GW = G.layers[static_cast<std::size_t>(l)];
        // gr is d(loss)/d(r_out); r_out = r_in + out_proj(gated): gOutProj, ggated
        // gated = yss * SiLU(z): recompute it into gxc_ (scratch) for the weight gradient.
        T* gated = gxc_.data();
        for (std::size_t t = 0; t < L; ++t)
            for (int d = 0; d < dI; ++d) {
                const T z = tp.xz[t * 2 * sdI + sdI + static_cast<std::size_t>(d)];
                gated[t * sdI + static_cast<std::size_t>(d)] = tp.yss[t * sdI + static_cast<std::size_t>(d)] * z * sigmoid(z);
            }
        weightGrad(gr_.data(), sdM, L, dM, gated, sdI, dI, GW.outProj);
        T* gg = gyss_.data(); // d/d(gated), (L, dInner)
        std::fill(gg, gg + L * sdI, T(0));
        inputGrad(gr_.data(), sdM, L, dM, W.outProj, dI, gg, sdI);
        // gyss = gg * SiLU(z);  gz = gg * yss * SiLU'(z),  SiLU'(z) = s (1 + z (1 - s))
        std::fill(gxz_.begin(), gxz_.begin() + static_cast<long>(L * 2 * sdI), T(0));
        for (std::size_t t = 0; t < L; ++t)
            for (int d = 0; d < dI; ++d) {
                const std::size_t i = t * sdI + static_cast<std::size_t>(d);
                const T z = tp.xz[t * 2 * sdI + sdI + static_cast<std::size_t>(d)];
                const T s = sigmoid(z);
                gxz_[t * 2 * sdI + sdI + static_cast<std::size_t>(d)] = gg[i] * tp.yss[i] * s * (T(1) + z * (T(1) - s));
                gg[i] = gg[i] * z * s; // now gyss
            }
        const T* gyss = gg;
        // yss = C.h + D*x:  gD += gyss*x;  gx = gyss*D (+ scan terms below)
        T* gxc = gxc_.data();
        for (std::size_t t = 0; t < L; ++t)
            for (int d = 0; d < dI; ++d) {
                const std::size_t i = t * sdI + static_cast<std::size_t>(d);
                GW.D[d] += gyss[i] * tp.xc[i];
                gxc[i] = gyss[i] * W.D[d];
            }
        // Reverse-time scan. gh carries d(loss)/d(h_t) back through h_t = a_t h_{t-1} + dt B x:
        //   gh_t += C_t gyss_t;  gC_t += gyss_t h_t;  ga = gh_t h_{t-1};
        //   gdt += ga a A + gh B x;  gA += ga a dt;  gB_t += gh dt x;  gx += gh dt B;  gh_{t-1} = a gh_t
        std::fill(gxdb_.begin(), gxdb_.begin() + static_cast<long>(L * sXO), T(0));
        std::fill(gh_.begin(), gh_.end(), T(0));
        T* gdt = gdt_.data();
        T* gALog = GW.ALog; // accumulates d/dA first, converted to d/dA_log after the scan
        std::vector<T> gA(sdI * sN, T(0)), termDt(sN), termX(sN), aTmp(sN);
        for (std::size_t tt = L; tt-- > 0;) {
            const T* B = tp.xdb.data() + tt * sXO + static_cast<std::size_t>(R);
            const T* C = B + sN;
            T* gB = gxdb_.data() + tt * sXO + static_cast<std::size_t>(R);
            T* gC = gB + sN;
            const T* hp = tp.H.data() + tt * sdI * sN;
            const T* hc = hp + sdI * sN;
            for (int d = 0; d < dI; ++d) {
                const std::size_t i = tt * sdI + static_cast<std::size_t>(d);
                const T dtd = tp.dt[i], x = tp.xc[i], gy = gyss[i];
                scanBackwardLane(N, dtd, x, gy, WL.A.data() + static_cast<std::size_t>(d) * sN, hp + static_cast<std::size_t>(d) * sN,
                                 hc + static_cast<std::size_t>(d) * sN, B, C, gB, gC, gh_.data() + static_cast<std::size_t>(d) * sN,
                                 gA.data() + static_cast<std::size_t>(d) * sN, termDt.data(), termX.data());
                T gdtAcc = 0, gxAcc = 0;
                for (int n = 0; n < N; ++n) {
                    gdtAcc += termDt[n];
                    gxAcc += termX[n];
                }
                gdt[i] = gdtAcc;
                gxc[i] += gxAcc * dtd;
            }
        }
        for (std::size_t i = 0; i < sdI * sN; ++i) gALog[i] += gA[i] * WL.A[i]; // dA/dA_log = A
        // dt = softplus(dtLin): gdtLin = gdt * sigmoid(dtLin) (1 above 20);  dtLin = dtW . xdb[:R] + dtB
        for (std::size_t t = 0; t < L; ++t) {
            for (int d = 0; d < dI; ++d) {
                const std::size_t i = t * sdI + static_cast<std::size_t>(d);
                const T v = tp.dtLin[i];
                gdt[i] *= v > T(20) ? T(1) : sigmoid(v);
                GW.dtBias[d] += gdt[i];
            }
        }
        weightGrad(gdt, sdI, L, dI, tp.xdb.data(), sXO, R, GW.dtWeight);
        inputGrad(gdt, sdI, L, dI, W.dtWeight, R, gxdb_.data(), sXO);
        // xdb = x_proj(xc)
        weightGrad(gxdb_.data(), sXO, L, XO, tp.xc.data(), sdI, dI, GW.xProj);
        inputGrad(gxdb_.data(), sXO, L, XO, W.xProj, dI, gxc, sdI);
        // xc = SiLU(xpre): gxpre = gxc * SiLU'(xpre)   (in place in gxc)
        for (std::size_t i = 0; i < L * sdI; ++i) {
            const T v = tp.xpre[i], s = sigmoid(v);
            gxc[i] *= s * (T(1) + v * (T(1) - s));
        }
        // xpre[t, d] = convB[d] + sum_k w[d, k] x[t-(K-1)+k, d]; inputs before t = 0 are constants
        for (std::size_t t = 0; t < L; ++t) {
            const T* g = gxc + t * sdI;
            for (int d = 0; d < dI; ++d) GW.convBias[d] += g[d];
            for (int k = 0; k < K; ++k) {
                const long tau = static_cast<long>(t) - (K - 1) + k;
                const T* src = tau >= 0 ? tp.xz.data() + static_cast<std::size_t>(tau) * 2 * sdI
                                        : tp.hist.data() + static_cast<std::size_t>(tau + K - 1) * sdI;
                for (int d = 0; d < dI; ++d) GW.convWeight[static_cast<std::size_t>(d * K + k)] += g[d] * src[d];
                if (tau >= 0) {
                    T* gx = gxz_.data() + static_cast<std::size_t>(tau) * 2 * sdI;
                    const T* w = WL.convWT.data() + static_cast<std::size_t>(k) * sdI;
                    for (int d = 0; d < dI; ++d) gx[d] += g[d] * w[d];
                }
            }
        }
        // xz = in_proj(u)
        weightGrad(gxz_.data(), 2 * sdI, L, 2 * dI, tp.u.data(), sdM, dM, GW.inProj);
        std::fill(gu_.begin(), gu_.begin() + static_cast<long>(L * sdM), T(0));
        inputGrad(gxz_.data(), 2 * sdI, L, 2 * dI, W.inProj, dM, gu_.data(), sdM);
        // u = RMSNorm(r_in); gr (for r_in) = gr (residual path) + norm backward
        rmsNormBackward(tp.rIn.data(), tp.rstd.data(), L, dM, W.norm, gu_.data(), gr_.data(), GW.norm);
    }
    // r0 = embW . feat + embB
    for (std::size_t t = 0; t < L; ++t)
        for (int i = 0; i < dM; ++i) {
            const T g = gr_[t * sdM + static_cast<std::size_t>(i)];
            G.embBias[i] += g;
            for (int j = 0; j < F; ++j) G.embWeight[static_cast<std::size_t>(i * F + j)] += g * feat_[t * sF + static_cast<std::size_t>(j)];
        }
}

template struct PreparedParams<float>;
template struct PreparedParams<double>;
template class SegmentPass<float>;
template class SegmentPass<double>;

} // namespace mfx::train
