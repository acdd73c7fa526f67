// processBlock benchmark: the built VST3, hosted as a DAW would host it, against the bare real-time
// engine on the same model, block sizes and channel counts. Prints a Markdown table.
// The machine is shared, so each figure is the fastest of several interleaved rounds (plugin,
// engine, plugin, ...): interference only ever adds time.
//   mfx_plugin_bench [--model FILE] [--seconds S] [--format vst3|lv2]
// Model: --model, else Resources/Models/default.safetensors, else a reference-size random model
// (dModel 16, nLayers 2, dState 16, expand 2, dConv 4; issue 2's benchmark size).
#include "PluginHost.h"

#include <Engine/RealtimeEngine.h>
#include <Model/ModelFile.h>
#include <Model/RandomModel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace mfx;
using namespace mfx::test;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRounds = 10;

Model referenceModel() {
    Config c;
    c.dModel = 16;
    c.nLayers = 2;
    c.dState = 16;
    c.dConv = 4;
    c.expand = 2;
    c.dtRank = 1;
    Model m = randomModel(c, 1234);
    m.metadata[meta::name] = "random reference-size model";
    return m;
}

std::vector<float> noise(size_t n) {
    std::vector<float> x(n);
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 0.3f);
    for (auto& v : x) v = d(rng);
    return x;
}

// Seconds of wall time to run `frames` frames through `run(ptrs, n)` in blocks of `block`.
template <typename Run>
double timeIt(Run&& run, std::vector<std::vector<float>>& buf, const std::vector<float>& src, int block, size_t frames) {
    std::vector<float*> ptr(buf.size());
    const auto start = Clock::now();
    for (size_t pos = 0; pos + static_cast<size_t>(block) <= frames; pos += static_cast<size_t>(block)) {
        const size_t at = pos % (src.size() - static_cast<size_t>(block));
        for (size_t c = 0; c < buf.size(); ++c) {
            std::memcpy(buf[c].data(), src.data() + at, sizeof(float) * static_cast<size_t>(block));
            ptr[c] = buf[c].data();
        }
        run(ptr.data(), block);
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
    std::string modelPath;
    double seconds = 5.0;
    PluginFormat format = PluginFormat::VST3;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--model" && i + 1 < argc) modelPath = argv[++i];
        else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
        else if (a == "--format" && i + 1 < argc) format = std::string(argv[++i]) == "lv2" ? PluginFormat::LV2 : PluginFormat::VST3;
        else {
            std::fprintf(stderr, "usage: mfx_plugin_bench [--model FILE] [--seconds S] [--format vst3|lv2]\n");
            return 2;
        }
    }
    const std::string defaultPath = std::string(MFX_SOURCE_DIR) + "/Resources/Models/default.safetensors";
    if (modelPath.empty() && std::filesystem::exists(defaultPath)) modelPath = defaultPath;
    const Model model = modelPath.empty() ? referenceModel() : loadModel(modelPath);
    const std::vector<std::uint8_t> bytes = serializeModel(model);
    const double rate = 48000.0;
    const size_t frames = static_cast<size_t>(seconds * rate);
    const std::vector<float> src = noise(1 << 16);

    std::printf("MambaFX plugin benchmark: %s hosted through JUCE, model \"%s\" (%s)\n", toString(format),
                model.name().c_str(), model.config.summary().c_str());
    std::printf("%.1f s of audio per row at %.0f Hz in %d interleaved rounds, best round; ns/sample is per channel "
                "sample.\n\n", seconds, rate, kRounds);
    std::printf("| channels | block | plugin ns/sample | plugin x real-time | engine ns/sample | wrapper overhead |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (int channels : {1, 2}) {
        HostedPlugin plugin(format);
        plugin.setModel(bytes);
        for (int block : {32, 64, 128, 256, 512, 1024, 2048}) {
            plugin.prepare(rate, block, channels);
            std::vector<std::vector<float>> buf(static_cast<size_t>(channels), std::vector<float>(static_cast<size_t>(block)));
            auto runPlugin = [&](float* const* p, int n) { plugin.process(p, n); };
            RealtimeEngine engine(model, channels);
            engine.warmUp();
            auto runEngine = [&](float* const* p, int n) { engine.process(p, p, n); };
            timeIt(runPlugin, buf, src, block, frames / kRounds); // warm-up
            timeIt(runEngine, buf, src, block, frames / kRounds);
            double tp = 1e30, te = 1e30; // seconds for frames / kRounds frames, best round
            for (int r = 0; r < kRounds; ++r) {
                tp = std::min(tp, timeIt(runPlugin, buf, src, block, frames / kRounds));
                te = std::min(te, timeIt(runEngine, buf, src, block, frames / kRounds));
            }
            tp *= kRounds;
            te *= kRounds;

            const double samples = static_cast<double>(frames) * channels;
            std::printf("| %d | %d | %.0f | %.1f | %.0f | %+.1f %% |\n", channels, block, tp * 1e9 / samples,
                        seconds / tp, te * 1e9 / samples, (tp / te - 1.0) * 100.0);
            std::fflush(stdout);
        }
    }
    // Resampling around the model: 44.1 kHz host, model at its own rate.
    {
        HostedPlugin plugin(format);
        plugin.setModel(bytes);
        const double hostRate = model.config.sampleRate == 44100.0 ? 48000.0 : 44100.0;
        const int block = 512;
        plugin.prepare(hostRate, block, 2);
        std::vector<std::vector<float>> buf(2, std::vector<float>(block));
        auto runPlugin = [&](float* const* p, int n) { plugin.process(p, n); };
        const size_t hostFrames = static_cast<size_t>(seconds * hostRate);
        timeIt(runPlugin, buf, src, block, hostFrames / kRounds);
        double tp = 1e30;
        for (int r = 0; r < kRounds; ++r) tp = std::min(tp, timeIt(runPlugin, buf, src, block, hostFrames / kRounds));
        tp *= kRounds;
        std::printf("\nWith resampling (host %.0f Hz, model %.0f Hz, stereo, block %d, latency %d samples): "
                    "%.0f ns/sample, %.1f x real-time\n",
                    hostRate, model.config.sampleRate, block, plugin.latency(), tp * 1e9 / (hostFrames * 2.0), seconds / tp);
    }
    return 0;
}
