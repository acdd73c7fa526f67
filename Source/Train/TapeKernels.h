#pragma once
// The small kernels of the training tape (Tape.cpp): matrix products in axpy form (out row +=
// scalar * weight row, so they vectorise without reassociating sums), RMSNorm forward/backward, the
// float scan's exp, and one channel of the reverse-time scan step. Internal to Source/Train.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mfx::train::detail {

template <typename T> T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

// exp(dt*A) of the float scan: Cody-Waite reduction and the Cephes expf polynomial (relative error
// below 1e-7 on [-87, 88]), plain arithmetic so the dState loop vectorises. Inputs below -87 give
// exp(-87) (not a denormal). The float64 pass (gradient check) uses std::exp.
inline float scanExp(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    constexpr float magic = 12582912.0f; // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
    const float km = x * 1.44269504088896341f + magic;
    const float k = km - magic; // round(x / ln 2) without a float->int conversion (which blocks vectorising)
    const float r = x - k * 0.693359375f - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const std::int32_t ki = std::bit_cast<std::int32_t>(km) - std::bit_cast<std::int32_t>(magic);
    return p * std::bit_cast<float>((ki + 127) << 23); // p * 2^k
}
inline double scanExp(double x) { return std::exp(x); }

// One channel d of one reverse-scan step, element-wise over n (all buffers distinct, so it vectorises):
//   g = gh + C gy;  gC += gy h_t;  ga = g h_{t-1};  tDt = ga a A + g B x;  gA += ga a dt;
//   gB += g dt x;  tX = g B;  gh = g a        with a = exp(dt A)
template <typename T>
inline void scanBackwardLane(int N, T dtd, T x, T gy, const T* __restrict A, const T* __restrict hpd, const T* __restrict hcd,
                             const T* __restrict B, const T* __restrict C, T* __restrict gB, T* __restrict gC, T* __restrict gh,
                             T* __restrict gA, T* __restrict tDt, T* __restrict tX) {
    for (int n = 0; n < N; ++n) {
        const T a = scanExp(dtd * A[n]);
        const T g = gh[n] + C[n] * gy;
        gC[n] += gy * hcd[n];
        const T ga = g * hpd[n];
        tDt[n] = ga * a * A[n] + g * B[n] * x;
        gA[n] += ga * a * dtd;
        gB[n] += g * dtd * x;
        tX[n] = g * B[n];
        gh[n] = g * a;
    }
}

// out[t, :] (+)= sum_i in[t, i] * WT[i, :]      in (L, nIn), WT (nIn, nOut), out (L, nOut)
template <typename T>
void matmulT(const T* in, std::size_t L, int nIn, const T* WT, int nOut, T* out, bool accumulate) {
    for (std::size_t t = 0; t < L; ++t) {
        T* o = out + t * static_cast<std::size_t>(nOut);
        if (!accumulate) std::fill(o, o + nOut, T(0));
        const T* x = in + t * static_cast<std::size_t>(nIn);
        for (int i = 0; i < nIn; ++i) {
            const T xi = x[i];
            const T* w = WT + static_cast<std::size_t>(i) * static_cast<std::size_t>(nOut);
            for (int j = 0; j < nOut; ++j) o[j] += xi * w[j];
        }
    }
}

// gW[o, :] += sum_t gOut[t, o] * in[t, :]        gOut (L, nOut, stride sOut), in (L, nIn), gW (nOut, nIn)
template <typename T>
void weightGrad(const T* gOut, std::size_t sOut, std::size_t L, int nOut, const T* in, std::size_t sIn, int nIn, T* gW) {
    for (std::size_t t = 0; t < L; ++t) {
        const T* g = gOut + t * sOut;
        const T* x = in + t * sIn;
        for (int o = 0; o < nOut; ++o) {
            const T go = g[o];
            T* w = gW + static_cast<std::size_t>(o) * static_cast<std::size_t>(nIn);
            for (int i = 0; i < nIn; ++i) w[i] += go * x[i];
        }
    }
}

// gIn[t, :] += sum_o gOut[t, o] * W[o, :]          W (nOut, nIn)
template <typename T>
void inputGrad(const T* gOut, std::size_t sOut, std::size_t L, int nOut, const T* W, int nIn, T* gIn, std::size_t sIn) {
    for (std::size_t t = 0; t < L; ++t) {
        const T* g = gOut + t * sOut;
        T* x = gIn + t * sIn;
        for (int o = 0; o < nOut; ++o) {
            const T go = g[o];
            const T* w = W + static_cast<std::size_t>(o) * static_cast<std::size_t>(nIn);
            for (int i = 0; i < nIn; ++i) x[i] += go * w[i];
        }
    }
}

// u = r * s * w,  s = 1/sqrt(mean(r^2) + eps)
template <typename T>
void rmsNormForward(const T* r, std::size_t L, int dM, const T* w, T* u, T* rstd) {
    for (std::size_t t = 0; t < L; ++t) {
        const T* x = r + t * static_cast<std::size_t>(dM);
        T ms = 0;
        for (int i = 0; i < dM; ++i) ms += x[i] * x[i];
        const T s = T(1) / std::sqrt(ms / T(dM) + T(1e-5));
        rstd[t] = s;
        T* y = u + t * static_cast<std::size_t>(dM);
        for (int i = 0; i < dM; ++i) y[i] = x[i] * s * w[i];
    }
}

// gw_i += gu_i r_i s;   gr_i += s gu_i w_i - s^3 r_i mean_j(gu_j w_j r_j)
template <typename T>
void rmsNormBackward(const T* r, const T* rstd, std::size_t L, int dM, const T* w, const T* gu, T* gr, T* gw) {
    for (std::size_t t = 0; t < L; ++t) {
        const T* x = r + t * static_cast<std::size_t>(dM);
        const T* g = gu + t * static_cast<std::size_t>(dM);
        T* gx = gr + t * static_cast<std::size_t>(dM);
        const T s = rstd[t];
        T dot = 0;
        for (int i = 0; i < dM; ++i) {
            dot += g[i] * w[i] * x[i];
            gw[i] += g[i] * x[i] * s;
        }
        const T k = s * s * s * dot / T(dM);
        for (int i = 0; i < dM; ++i) gx[i] += s * g[i] * w[i] - k * x[i];
    }
}

template <typename T> void grow(std::vector<T>& v, std::size_t n) {
    if (v.size() < n) v.resize(n);
}


} // namespace mfx::train::detail
