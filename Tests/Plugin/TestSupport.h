#pragma once
// Shared pieces of the plugin tests: random test models as file bytes, test signals, block
// patterns, bitwise comparison, and the core engine's output as the reference.
#include <Engine/RealtimeEngine.h>
#include <Engine/RestState.h>
#include <Model/ModelFile.h>
#include <Model/RandomModel.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace mfx::test {

using Signal = std::vector<std::vector<float>>; // (channels, n)

// The largest block the tests hand over; plugins are prepared for it (hosts never exceed it).
inline constexpr int kMaxBlock = 4096;

// The reference size of issue 2 (dModel 16, nLayers 2, dState 16, expand 2, dConv 4), "trained-like"
// random weights (projections scaled by 1.5, skip 0.3) so the output differs clearly from the input.
inline Model testModel(std::uint64_t seed, double sampleRate = 48000.0, int nCond = 0) {
    Config c;
    c.dModel = 16;
    c.nLayers = 2;
    c.dState = 16;
    c.dConv = 4;
    c.expand = 2;
    c.dtRank = 1;
    c.nCond = nCond;
    c.sampleRate = sampleRate;
    Model m = randomModel(c, seed, InitOptions{0.001, 0.1, 1.5, 0.3});
    m.metadata[meta::name] = "plugin test model " + std::to_string(seed);
    if (nCond > 0) {
        std::string json = "[";
        for (int i = 0; i < nCond; ++i)
            json += std::string(i ? "," : "") + "{\"name\":\"Knob " + std::to_string(i + 1) + "\",\"min\":" +
                    std::to_string(-1.0 - i) + ",\"max\":" + std::to_string(2.0 + i) + ",\"default\":0.5}";
        m.metadata[meta::conditioning] = json + "]";
    }
    return m;
}

inline std::vector<std::uint8_t> bytesOf(const Model& m) { return serializeModel(m); }

// Noise, a sweep, impulses, silence and a loud clipped stretch; each channel different.
inline Signal testSignal(int channels, int n, std::uint64_t seed) {
    Signal s(static_cast<size_t>(channels), std::vector<float>(static_cast<size_t>(n)));
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.2f);
    for (int c = 0; c < channels; ++c) {
        for (int i = 0; i < n; ++i) {
            const double t = i / 48000.0;
            float x = 0.4f * static_cast<float>(std::sin(2.0 * M_PI * (100.0 + 3000.0 * t) * t * (1.0 + 0.1 * c)));
            x += noise(rng);
            if (i % 4801 == 100) x += 0.9f;
            if (i > n / 2 && i < n / 2 + n / 10) x = 0.0f;                        // silence
            if (i > 3 * n / 4 && i < 3 * n / 4 + n / 20) x = std::clamp(4.0f * x, -2.0f, 2.0f); // loud
            s[static_cast<size_t>(c)][static_cast<size_t>(i)] = x;
        }
    }
    return s;
}

// The knob defaults testModel() writes (0.5 for every knob): the plugin's engines start at the rest
// state for them.
inline std::vector<float> defaultKnobs(const Model& model) {
    return std::vector<float>(static_cast<size_t>(model.config.nCond), 0.5f);
}

// The core engine's output for `in` (each channel with its own state), optionally with held
// conditioning, from the model's rest state at those knob values (where the plugin starts when the
// knobs are set before prepareToPlay; without `cond`, at the knob defaults).
inline Signal engineOutput(const Model& model, const Signal& in, const std::vector<float>& cond = {}) {
    RealtimeEngine engine(model, static_cast<int>(in.size()));
    if (!cond.empty()) engine.setConditioning(cond.data());
    const auto knobs = cond.empty() ? defaultKnobs(model) : cond;
    engine.setInitialState(engineRestState(model, knobs.empty() ? nullptr : knobs.data()));
    Signal out = in;
    for (size_t c = 0; c < in.size(); ++c)
        engine.processChannel(static_cast<int>(c), in[c].data(), out[c].data(), static_cast<int>(in[c].size()));
    return out;
}

// Block sizes: a fixed size, or (size 0) random sizes in 1..1024 from a fixed seed (all <= kMaxBlock).
inline std::function<int()> blockPattern(int size, std::uint64_t seed = 7) {
    if (size > 0) return [size] { return size; };
    auto rng = std::make_shared<std::mt19937_64>(seed);
    return [rng] { return std::uniform_int_distribution<int>(1, 1024)(*rng); };
}

// Index of the first sample whose bits differ, or -1.
inline long firstDifference(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return 0;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return static_cast<long>(i);
    return -1;
}

// "first difference at sample i: a vs b" or "bitwise equal", for test messages.
inline std::string describeDifference(const std::vector<float>& a, const std::vector<float>& b) {
    const long i = firstDifference(a, b);
    if (i < 0) return "bitwise equal";
    if (a.size() != b.size()) return "lengths differ: " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    return "first difference at sample " + std::to_string(i) + ": " + std::to_string(a[static_cast<size_t>(i)]) +
           " vs " + std::to_string(b[static_cast<size_t>(i)]);
}

inline double relativeError(const std::vector<float>& a, const std::vector<float>& b, size_t from, size_t count) {
    double num = 0.0, den = 0.0;
    for (size_t i = from; i < from + count && i < a.size() && i < b.size(); ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += double(b[i]) * b[i];
    }
    return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

} // namespace mfx::test

#include "PluginHost.h"

namespace mfx::test {

// Runs `in` through the plugin in place, in blocks from `blocks()` (as a host hands out buffers).
inline Signal runPlugin(HostedPlugin& plugin, const Signal& in, const std::function<int()>& blocks) {
    Signal out = in;
    const int n = static_cast<int>(in[0].size());
    std::vector<float*> ptr(out.size());
    for (int pos = 0; pos < n;) {
        const int len = std::min(blocks(), n - pos);
        for (size_t c = 0; c < out.size(); ++c) ptr[c] = out[c].data() + pos;
        plugin.process(ptr.data(), len);
        pos += len;
    }
    return out;
}

// A plugin prepared for `channels` at `rate` with `model` set through the session state.
inline std::unique_ptr<HostedPlugin> pluginWithModel(PluginFormat format, const Model& model, double rate, int channels,
                                                     int maxBlock = kMaxBlock) {
    auto plugin = std::make_unique<HostedPlugin>(format);
    plugin->setModel(bytesOf(model));
    plugin->prepare(rate, maxBlock, channels);
    return plugin;
}

} // namespace mfx::test
