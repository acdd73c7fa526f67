// NamWaveNet.h: the standard configuration, random weights and the per-sample double reference.
#include "NamWaveNet.h"

#include <cmath>
#include <random>

namespace mfx::bench {

std::vector<NamArrayConfig> namStandard() {
    const std::vector<int> d{1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    return {{1, 1, 16, 8, 3, d, false}, {16, 1, 8, 1, 3, d, true}};
}

bool cpuHasAvx2Fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

int NamWeights::parameterCount() const {
    std::size_t n = 0;
    for (const auto& a : arrays) {
        n += a.rechannel.size() + a.headRechannel.size() + a.headBias.size();
        for (const auto& L : a.layers) {
            for (const auto& k : L.conv) n += k.size();
            n += L.convBias.size() + L.mixin.size() + L.w1x1.size() + L.b1x1.size();
        }
    }
    return static_cast<int>(n);
}

NamWeights randomNamWeights(const std::vector<NamArrayConfig>& config, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    // uniform in +-1/sqrt(fan_in), as PyTorch initialises Conv1d
    auto fill = [&](std::size_t n, int fanIn) {
        std::uniform_real_distribution<float> u(-1.0f / std::sqrt(static_cast<float>(fanIn)), 1.0f / std::sqrt(static_cast<float>(fanIn)));
        std::vector<float> v(n);
        for (auto& x : v) x = u(rng);
        return v;
    };
    NamWeights w;
    w.config = config;
    for (const auto& c : config) {
        const auto ch = static_cast<std::size_t>(c.channels);
        NamArrayWeights a;
        a.rechannel = fill(ch * static_cast<std::size_t>(c.inputSize), c.inputSize);
        for (std::size_t l = 0; l < c.dilations.size(); ++l) {
            NamLayerWeights L;
            for (int k = 0; k < c.kernelSize; ++k) L.conv.push_back(fill(ch * ch, c.channels * c.kernelSize));
            L.convBias = fill(ch, c.channels * c.kernelSize);
            L.mixin = fill(ch * static_cast<std::size_t>(c.conditionSize), c.conditionSize);
            L.w1x1 = fill(ch * ch, c.channels);
            L.b1x1 = fill(ch, c.channels);
            a.layers.push_back(std::move(L));
        }
        a.headRechannel = fill(static_cast<std::size_t>(c.headSize) * ch, c.channels);
        if (c.headBias) a.headBias = fill(static_cast<std::size_t>(c.headSize), c.channels);
        w.arrays.push_back(std::move(a));
    }
    return w;
}

std::vector<double> namNaive(const NamWeights& w, const std::vector<float>& in) {
    const std::size_t T = in.size();
    std::vector<std::vector<double>> x; // (T) x (inputSize): the array's input, per sample
    for (std::size_t t = 0; t < T; ++t) x.push_back({static_cast<double>(in[t])});
    std::vector<std::vector<double>> head(T); // (T) x (channels of the next array): head carried in
    for (std::size_t a = 0; a < w.config.size(); ++a) {
        const NamArrayConfig& c = w.config[a];
        const NamArrayWeights& aw = w.arrays[a];
        const auto ch = static_cast<std::size_t>(c.channels);
        std::vector<std::vector<double>> h(T, std::vector<double>(ch, 0.0)); // (T, channels) head accumulator
        if (a > 0) h = head;
        std::vector<std::vector<double>> cur(T, std::vector<double>(ch, 0.0)); // (T, channels) layer input
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t o = 0; o < ch; ++o)
                for (std::size_t i = 0; i < static_cast<std::size_t>(c.inputSize); ++i)
                    cur[t][o] += aw.rechannel[o * static_cast<std::size_t>(c.inputSize) + i] * x[t][i];
        for (std::size_t l = 0; l < c.dilations.size(); ++l) {
            const NamLayerWeights& L = aw.layers[l];
            const auto d = static_cast<std::size_t>(c.dilations[l]);
            std::vector<std::vector<double>> next(T, std::vector<double>(ch));
            for (std::size_t t = 0; t < T; ++t) {
                std::vector<double> z(ch);
                for (std::size_t o = 0; o < ch; ++o) {
                    double s = L.convBias[o] + L.mixin[o] * in[t];
                    for (int k = 0; k < c.kernelSize; ++k) {
                        const std::size_t back = static_cast<std::size_t>(c.kernelSize - 1 - k) * d;
                        if (t < back) continue; // zero history
                        for (std::size_t i = 0; i < ch; ++i) s += L.conv[static_cast<std::size_t>(k)][o * ch + i] * cur[t - back][i];
                    }
                    z[o] = std::tanh(s);
                    h[t][o] += z[o];
                }
                for (std::size_t o = 0; o < ch; ++o) {
                    double s = cur[t][o] + L.b1x1[o];
                    for (std::size_t i = 0; i < ch; ++i) s += L.w1x1[o * ch + i] * z[i];
                    next[t][o] = s;
                }
            }
            cur = std::move(next);
        }
        const auto hs = static_cast<std::size_t>(c.headSize);
        for (std::size_t t = 0; t < T; ++t) {
            std::vector<double> ho(hs);
            for (std::size_t o = 0; o < hs; ++o) {
                ho[o] = c.headBias ? aw.headBias[o] : 0.0;
                for (std::size_t i = 0; i < ch; ++i) ho[o] += aw.headRechannel[o * ch + i] * h[t][i];
            }
            head[t] = std::move(ho);
        }
        x = cur;
    }
    std::vector<double> out(T);
    for (std::size_t t = 0; t < T; ++t) out[t] = kNamHeadScale * head[t][0];
    return out;
}

} // namespace mfx::bench
