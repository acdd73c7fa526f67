// The float64 reference over a whole sequence, step by step, written for clarity (not speed).
// Each line cites the mamba_simple.py operation it implements. The same code evaluated in float32
// (referenceForwardFloat32) measures what float32 rounding alone costs on a model.
#include "Reference.h"
#include "../Engine/Sanitize.h"
#include "../Model/ModelError.h"

#include <algorithm>
#include <cmath>

namespace mfx {

namespace {

// T = double: the reference; T = float: the same arithmetic in float32 (std::exp, std::log1p and
// std::sqrt resolve to their float overloads).
template <typename T>
using Vec = std::vector<T>;

template <typename T>
T silu(T x) { return x / (T(1) + std::exp(-x)); }
template <typename T>
T softplus(T x) { return x > T(20) ? x : std::log1p(std::exp(x)); } // F.softplus(threshold=20)

// y = W x (+ b),  W: (rows, cols) row-major
template <typename T>
Vec<T> linear(const std::vector<float>& W, const Vec<T>& x, int rows, int cols, const std::vector<float>* b = nullptr) {
    Vec<T> y(static_cast<size_t>(rows), T(0));
    for (int r = 0; r < rows; ++r) {
        T acc = b ? static_cast<T>((*b)[static_cast<size_t>(r)]) : T(0);
        for (int c = 0; c < cols; ++c) acc += static_cast<T>(W[static_cast<size_t>(r * cols + c)]) * x[static_cast<size_t>(c)];
        y[static_cast<size_t>(r)] = acc;
    }
    return y;
}

// RMSNorm: x * rsqrt(mean(x^2) + eps) * weight
template <typename T>
Vec<T> rmsNorm(const Vec<T>& x, const std::vector<float>& w) {
    T ms = 0;
    for (T v : x) ms += v * v;
    ms /= static_cast<T>(x.size());
    const T r = T(1) / std::sqrt(ms + T(1e-5));
    Vec<T> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * r * static_cast<T>(w[i]);
    return y;
}

// One step of the Mamba mixer (mamba_simple.py, Mamba.step) for one layer.
// `dtOut`, if given, receives dt, (dInner).
template <typename T>
Vec<T> mixerStep(const Config& c, const LayerWeights& L, const Vec<T>& u, typename StateT<T>::Layer& st, Vec<T>* dtOut = nullptr) {
    const int dIn = c.dInner(), N = c.dState, K = c.dConv, R = c.dtRank;
    // xz = in_proj(u); x, z = xz.chunk(2)
    const Vec<T> xz = linear(L.inProj, u, 2 * dIn, c.dModel);
    Vec<T> xc(static_cast<size_t>(dIn)); // conv output after SiLU, (dInner)
    for (int d = 0; d < dIn; ++d) {
        // x = silu(sum(conv_state * conv1d.weight) + conv1d.bias); window = [past dConv-1 inputs, x_t]
        T acc = static_cast<T>(L.convBias[static_cast<size_t>(d)]);
        for (int k = 0; k < K - 1; ++k)
            acc += static_cast<T>(L.convWeight[static_cast<size_t>(d * K + k)]) * st.conv[static_cast<size_t>(d * (K - 1) + k)];
        acc += static_cast<T>(L.convWeight[static_cast<size_t>(d * K + K - 1)]) * xz[static_cast<size_t>(d)];
        // conv_state = roll(conv_state, -1); conv_state[:, -1] = x
        for (int k = 0; k + 1 < K - 1; ++k) st.conv[static_cast<size_t>(d * (K - 1) + k)] = st.conv[static_cast<size_t>(d * (K - 1) + k + 1)];
        if (K > 1) st.conv[static_cast<size_t>(d * (K - 1) + K - 2)] = xz[static_cast<size_t>(d)];
        xc[static_cast<size_t>(d)] = silu(acc);
    }
    // x_db = x_proj(x); dt, B, C = split(x_db, [dtRank, dState, dState])
    const Vec<T> xdb = linear(L.xProj, xc, c.xProjOut(), dIn);
    const Vec<T> dtIn(xdb.begin(), xdb.begin() + R);
    // dt = softplus(dt_proj(dt) + dt_proj.bias)
    const Vec<T> dtLin = linear(L.dtProjWeight, dtIn, dIn, R, &L.dtProjBias);
    Vec<T> gated(static_cast<size_t>(dIn));
    if (dtOut) dtOut->assign(static_cast<size_t>(dIn), T(0));
    for (int d = 0; d < dIn; ++d) {
        const T dt = softplus(dtLin[static_cast<size_t>(d)]);
        if (dtOut) (*dtOut)[static_cast<size_t>(d)] = dt;
        const T x = xc[static_cast<size_t>(d)];
        T yd = 0;
        for (int n = 0; n < N; ++n) {
            const T A = -std::exp(static_cast<T>(L.ALog[static_cast<size_t>(d * N + n)])); // A = -exp(A_log)
            const T B = xdb[static_cast<size_t>(R + n)], C = xdb[static_cast<size_t>(R + N + n)];
            T& h = st.ssm[static_cast<size_t>(d * N + n)];
            h = std::exp(dt * A) * h + dt * B * x; // ssm_state = ssm_state * dA + x * dB
            yd += C * h;                           // y = ssm_state @ C
        }
        yd += static_cast<T>(L.D[static_cast<size_t>(d)]) * x; // y = y + D * x
        gated[static_cast<size_t>(d)] = yd * silu(xz[static_cast<size_t>(dIn + d)]); // y = y * act(z)
    }
    return linear(L.outProj, gated, c.dModel, dIn); // out = out_proj(y)
}

// The mixer at rest under a constant input u: every signal is constant, so the conv window holds
// the constant conv input x and h solves h = exp(dt A) h + dt B x (the recurrence's fixed point):
//   h = dt B x / (1 - exp(dt A)) = dt B x / -expm1(dt A).
// One mixerStep from h = 0 with the window already full of x leaves the window as it is and gives
// h1 = dt B x, and the same dt (dt does not depend on h), so h = h1 / -expm1(dt A); a second step
// from that h gives the mixer's constant output (and h again, up to rounding, which is discarded).
// A decay that rounds to exp(dt A) = 1 (dt A = 0: a lane that integrates forever) has no rest point;
// its h is left at 0.
template <typename T>
Vec<T> mixerRest(const Config& c, const LayerWeights& L, const Vec<T>& u, typename StateT<T>::Layer& st) {
    const int dIn = c.dInner(), N = c.dState, K = c.dConv;
    const Vec<T> xz = linear(L.inProj, u, 2 * dIn, c.dModel);
    for (int d = 0; d < dIn; ++d)
        for (int k = 0; k < K - 1; ++k) st.conv[static_cast<size_t>(d * (K - 1) + k)] = xz[static_cast<size_t>(d)];
    std::fill(st.ssm.begin(), st.ssm.end(), T(0));
    Vec<T> dt;
    mixerStep(c, L, u, st, &dt);
    for (int d = 0; d < dIn; ++d)
        for (int n = 0; n < N; ++n) {
            const T A = -std::exp(static_cast<T>(L.ALog[static_cast<size_t>(d * N + n)]));
            const T gap = -std::expm1(dt[static_cast<size_t>(d)] * A); // 1 - exp(dt A), in (0, 1]
            T& h = st.ssm[static_cast<size_t>(d * N + n)];
            h = gap > T(0) ? h / gap : T(0);
        }
    const auto rest = st.ssm;
    Vec<T> out = mixerStep(c, L, u, st);
    st.ssm = rest;
    return out;
}

// r = embedding([sample, cond...])
template <typename T>
Vec<T> embed(const Model& model, const Vec<T>& features) {
    return linear(model.weights.embeddingWeight, features, model.config.dModel, 1 + model.config.nCond,
                  &model.weights.embeddingBias);
}

template <typename T>
std::vector<double> forward(const Model& model, const float* in, const float* cond, std::size_t n, StateT<T>& state) {
    const Config& c = model.config;
    const Weights& W = model.weights;
    if (state.layers.size() != static_cast<size_t>(c.nLayers)) state = StateT<T>(c);
    std::vector<double> out(n);
    Vec<T> features(static_cast<size_t>(1 + c.nCond));
    for (std::size_t t = 0; t < n; ++t) {
        const T sample = static_cast<T>(sanitizeSample(in[t]));
        features[0] = sample;
        for (int j = 0; j < c.nCond; ++j)
            features[static_cast<size_t>(1 + j)] = cond ? static_cast<T>(sanitizeSample(cond[t * static_cast<size_t>(c.nCond) + static_cast<size_t>(j)])) : T(0);
        Vec<T> r = embed(model, features);
        // r = r + mixer(norm(r)) for each block
        for (int l = 0; l < c.nLayers; ++l) {
            const auto& L = W.layers[static_cast<size_t>(l)];
            const Vec<T> m = mixerStep(c, L, rmsNorm(r, L.norm), state.layers[static_cast<size_t>(l)]);
            for (int i = 0; i < c.dModel; ++i) r[static_cast<size_t>(i)] += m[static_cast<size_t>(i)];
        }
        // y = head(norm_f(r)) + skip * sample
        const Vec<T> f = rmsNorm(r, W.normF);
        T y = static_cast<T>(W.headBias[0]);
        for (int i = 0; i < c.dModel; ++i) y += static_cast<T>(W.headWeight[static_cast<size_t>(i)]) * f[static_cast<size_t>(i)];
        out[t] = static_cast<double>(y + static_cast<T>(W.skip[0]) * sample);
    }
    return out;
}

} // namespace

ReferenceState referenceRestState(const Model& model, const float* cond) {
    const Config& c = model.config;
    ReferenceState state(c);
    Vec<double> features(static_cast<size_t>(1 + c.nCond), 0.0); // [sample 0, cond...]
    for (int j = 0; j < c.nCond; ++j) features[static_cast<size_t>(1 + j)] = cond ? sanitizeSample(cond[j]) : 0.0;
    Vec<double> r = embed(model, features);
    for (int l = 0; l < c.nLayers; ++l) {
        const auto& L = model.weights.layers[static_cast<size_t>(l)];
        const Vec<double> m = mixerRest(c, L, rmsNorm(r, L.norm), state.layers[static_cast<size_t>(l)]);
        for (int i = 0; i < c.dModel; ++i) r[static_cast<size_t>(i)] += m[static_cast<size_t>(i)];
    }
    return state;
}

State restState(const Model& model, const float* cond) {
    const State s = referenceRestState(model, cond).as<float>();
    if (!s.allFinite()) throw ModelError("the model has no finite rest state (its state under silence overflows)");
    return s;
}

std::vector<double> referenceForward(const Model& model, const float* in, const float* cond, std::size_t n,
                                     ReferenceState& state) {
    return forward(model, in, cond, n, state);
}

std::vector<double> referenceForwardFloat32(const Model& model, const float* in, const float* cond, std::size_t n,
                                            State& state) {
    return forward(model, in, cond, n, state);
}

} // namespace mfx
