// mfx_live_bench: the live callback's time as a fraction of the buffer period, at 32/64/128 frames.
//
//   mfx_live_bench [--model FILE] [--seconds S] [--unpaced] [--buffers 32,64,128] [--stream-rate HZ]
//
// Runs LiveProcessor (the exact body of the RtAudio callback: input gain, EngineSlot + real-time
// engine, mix, output gain, bypass ramp, meters; mono in -> stereo out) on a guitar-like signal for S
// seconds of audio (default 60) per buffer size. Paced by default: like a driver, it waits for the
// next period's deadline between callbacks (SCHED_FIFO where allowed), so caches and clocks behave as
// in a real stream. Model: --model, else the bundled default model, else a random model of the
// reference size (dModel 16, nLayers 2, dState 16, expand 2, dConv 4). --stream-rate other than the
// model's runs the model through the RateAdapter (fast sinc converters), as the app does then.
#include <live/LiveProcessor.h>
#include <live/RateAdapter.h>

#include <Model/ModelFile.h>
#include <Model/RandomModel.h>
#include <common/DefaultModel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

using namespace mfx;
using namespace mfx::live;

int main(int argc, char** argv) {
    std::string modelPath;
    double seconds = 60.0;
    bool paced = true;
    std::vector<int> buffers{32, 64, 128};
    double streamRate = 0.0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--model" && i + 1 < argc) modelPath = argv[++i];
        else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
        else if (a == "--unpaced") paced = false;
        else if (a == "--stream-rate" && i + 1 < argc) streamRate = std::stod(argv[++i]);
        else if (a == "--buffers" && i + 1 < argc) {
            buffers.clear();
            for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ",")) buffers.push_back(std::atoi(t));
        } else {
            std::fprintf(stderr, "usage: mfx_live_bench [--model FILE] [--seconds S] [--unpaced] [--buffers 32,64,128] [--stream-rate HZ]\n");
            return 2;
        }
    }
    Model model;
    std::string what;
    if (modelPath.empty())
        if (auto found = apps::findDefaultModel(apps::defaultModelCandidates())) modelPath = found->string();
    if (!modelPath.empty()) {
        model = loadModel(modelPath);
        what = modelPath;
    } else {
        Config c; // the reference size
        c.dModel = 16;
        c.nLayers = 2;
        c.dState = 16;
        c.expand = 2;
        c.dConv = 4;
        c.dtRank = 1;
        model = randomModel(c, 1);
        what = "random model (no default model found)";
    }
    const double modelRate = model.config.sampleRate;
    const double rate = streamRate > 0.0 ? streamRate : modelRate;

    sched_param sp{};
    sp.sched_priority = 70;
    const bool fifo = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
    std::printf("model: %s\n  %s\n", what.c_str(), model.config.summary().c_str());
    if (rate != modelRate) std::printf("model at %.0f Hz inside the stream through RateAdapter (fast sinc)\n", modelRate);
    std::printf("%.0f s of audio per buffer size at %.0f Hz, %s, %s\n", seconds, rate,
                paced ? "paced at real time" : "back to back", fifo ? "SCHED_FIFO" : "SCHED_OTHER (no real-time priority)");
    std::printf("| buffer | period | median | 99.9th pct | max | callbacks |\n|---:|---:|---:|---:|---:|---:|\n");

    // A guitar-like input: decaying plucks with some noise, 2 s long, looped.
    std::vector<float> signal(static_cast<std::size_t>(2 * rate));
    for (std::size_t i = 0; i < signal.size(); ++i) {
        const double t = std::fmod(static_cast<double>(i) / rate, 0.5);
        signal[i] = static_cast<float>(0.5 * std::exp(-5.0 * t) * std::sin(2.0 * M_PI * 110.0 * (1 + (i / 24000) % 4) * t) +
                                       0.01 * std::sin(0.37 * static_cast<double>(i)));
    }

    for (int block : buffers) {
        ProcessorSettings s;
        s.inputChannels = 1;
        s.outputChannels = 2;
        s.maxBlock = block;
        s.sampleRate = rate;
        EngineSlot slot(1, block);
        StatusBoard status;
        std::unique_ptr<RateAdapter> adapter;
        if (rate != modelRate) adapter = std::make_unique<RateAdapter>(rate, modelRate, 1, block, ResamplerQuality::Fast);
        LiveProcessor proc(s, slot, status, nullptr, nullptr, adapter.get());
        auto engine = std::make_unique<RealtimeEngine>(model, 1);
        engine->warmUp();
        slot.publish(engine);
        slot.process(nullptr, nullptr, 1, 0);

        std::vector<float> in(static_cast<std::size_t>(block)), left(in.size()), right(in.size());
        const float* ip[1] = {in.data()};
        float* op[2] = {left.data(), right.data()};
        const long callbacks = static_cast<long>(seconds * rate / block);
        const long periodNs = static_cast<long>(1e9 * block / rate);
        timespec next{};
        clock_gettime(CLOCK_MONOTONIC, &next);
        std::size_t pos = 0;
        for (long cb = 0; cb < callbacks + 100; ++cb) {
            for (int i = 0; i < block; ++i) in[static_cast<std::size_t>(i)] = signal[(pos + static_cast<std::size_t>(i)) % signal.size()];
            pos += static_cast<std::size_t>(block);
            if (cb == 100) proc.loadHistogram().clear(); // the first 100 callbacks warm up
            proc.process(ip, op, block, false);
            if (paced) {
                next.tv_nsec += periodNs;
                while (next.tv_nsec >= 1000000000L) { next.tv_nsec -= 1000000000L; ++next.tv_sec; }
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
            }
        }
        const LoadHistogram& h = proc.loadHistogram();
        std::printf("| %d | %.3f ms | %.1f%% | %.1f%% | %.1f%% | %llu |\n", block, 1000.0 * block / rate, 100.0 * h.quantile(0.5),
                    100.0 * h.quantile(0.999), 100.0 * h.max(), static_cast<unsigned long long>(h.count()));
        std::fflush(stdout);
    }
    return 0;
}
