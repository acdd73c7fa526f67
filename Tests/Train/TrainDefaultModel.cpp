// mfx_train_default: trains the bundled default model on the amp capture data set
// (../shared/data/amp-capture: train_*.flac for training, val_*.flac for validation) and keeps the
// best model by validation ESR (whole val file, state from zero) in the output file, with metadata.
// A maintainer's tool, not a test: `mambafx train` is the user's way to do the same.
//
//   mfx_train_default --data DIR -o Resources/Models/default.safetensors [--steps N|auto] [--threads 1]
//                     [--d-model 8 --layers 12 --d-state 4 --expand 2 --d-conv 4] [--checkpoint F]
//                     [--device cpu|cuda|cuda:N]   (gradients on a GPU; validation stays on the CPU)
//                     [--max-seconds S]             (stop after S s; with --steps auto the cosine schedule
//                                                   is sized from the first steps' rate to end within S)
//                     [--init-model FILE]           (fine-tune: start from a model's weights, fresh optimiser;
//                                                   with more --layers than FILE, deepen it: new layers start as identity;
//                                                   with a larger --d-state, widen its SSMs: new states start silent)
#include "Model/ModelFile.h"
#include "Model/RandomModel.h"
#include "Train/Deepen.h"
#include "Train/Sizes.h"
#include "Train/Trainer.h"

#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <future>
#include <iostream>
#include <limits>
#include <string>

using namespace mfx;
using namespace mfx::train;

static std::vector<float> readMono(const std::string& path, int& rate) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (!f) throw std::runtime_error("cannot read " + path + ": " + sf_strerror(nullptr));
    std::vector<float> buf(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
    sf_readf_float(f, buf.data(), info.frames);
    sf_close(f);
    rate = info.samplerate;
    std::vector<float> mono(static_cast<std::size_t>(info.frames));
    for (std::size_t i = 0; i < mono.size(); ++i) mono[i] = buf[i * static_cast<std::size_t>(info.channels)];
    return mono;
}

static int run(int argc, char** argv) {
    std::string data = "../shared/data/amp-capture", out = "Resources/Models/default.safetensors", ckpt;
    Config c = *sizePreset("standard"); // the default model's size
    TrainOptions o;                      // the default model's recipe (docs/MODELS.md)
    o.segmentLength = 4096;
    o.warmup = 1024;
    o.batchSize = 16;
    o.totalSteps = 40000;
    o.adam.lr = 5e-3;
    o.adam.lrFinal = 5e-5;
    o.adam.warmupSteps = 100;
    o.seed = 1;
    o.loss.preEmphasis = 0;
    int validateEvery = 1000;
    double maxSeconds = 0, priorSeconds = 0;
    bool autoSteps = false; // --steps auto: the schedule's length from the measured step rate and --max-seconds
    bool syncVal = false;
    std::string initModel; // --init-model: start from this model's weights (fine-tuning) instead of the random init
    double embScale = 1.0, embBias = 0.0; // embedding bias and head start at zero (MODELS.md "Initialisation")
    bool headZero = true;
    std::string hardware; // default: the gradient backend's name (e.g. "cpu (2 threads)")
    double benchOnly = 0;
    std::string device = "cpu";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() { return std::string(argv[++i]); };
        if (a == "--data") data = next();
        else if (a == "-o") out = next();
        else if (a == "--checkpoint") ckpt = next();
        else if (a == "--steps") {
            const std::string v = next();
            if (v == "auto") autoSteps = true; else o.totalSteps = std::stol(v);
        }
        else if (a == "--threads") o.threads = std::stoi(next());
        else if (a == "--batch") o.batchSize = std::stoi(next());
        else if (a == "--segment") o.segmentLength = std::stoul(next());
        else if (a == "--warmup") o.warmup = std::stoul(next());
        else if (a == "--lr") o.adam.lr = std::stod(next());
        else if (a == "--seed") o.seed = std::stoull(next());
        else if (a == "--init-model") initModel = next();
        else if (a == "--validate-every") validateEvery = std::stoi(next());
        else if (a == "--d-model") c.dModel = std::stoi(next());
        else if (a == "--layers") c.nLayers = std::stoi(next());
        else if (a == "--d-state") c.dState = std::stoi(next());
        else if (a == "--expand") c.expand = std::stoi(next());
        else if (a == "--d-conv") c.dConv = std::stoi(next());
        else if (a == "--bench") benchOnly = std::stod(next());
        else if (a == "--max-seconds") maxSeconds = std::stod(next());
        else if (a == "--prior-seconds") priorSeconds = std::stod(next());
        else if (a == "--hardware") hardware = next();
        else if (a == "--sync-val") syncVal = true;
        else if (a == "--pre-emphasis") o.loss.preEmphasis = std::stod(next());
        else if (a == "--emb-scale") embScale = std::stod(next());
        else if (a == "--emb-bias") embBias = std::stod(next());
        else if (a == "--head-zero") headZero = true;
        else if (a == "--head-random") headZero = false;
        else if (a == "--clip") o.adam.clipNorm = std::stod(next());
        else if (a == "--lr-final") o.adam.lrFinal = std::stod(next());
        else if (a == "--device") device = next();
        else if (a == "--stft-weight") o.loss.stftWeight = std::stod(next());
        else { std::cerr << "unknown option " << a << "\n"; return 2; }
    }
    if (autoSteps && maxSeconds <= 0) {
        std::cerr << "--steps auto sizes the schedule to --max-seconds: give --max-seconds too\n";
        return 2;
    }
    c.dtRank = Config::defaultDtRank(c.dModel);
    // --init-model: its shape is checked before the data is read (the sample rate after)
    Model from;
    if (!initModel.empty()) {
        from = loadModel(initModel);
        Config same = c;
        same.nLayers = from.config.nLayers;
        same.dState = from.config.dState;
        same.sampleRate = from.config.sampleRate;
        if (from.config.toJson() != same.toJson() || from.config.nLayers > c.nLayers || from.config.dState > c.dState) {
            std::cerr << "--init-model " << initModel << " is " << from.config.summary() << ", not the " << c.summary()
                      << " asked for: pass its --d-model, --expand, --d-conv and at least its --layers and --d-state\n";
            return 2;
        }
    }
    int rate = 0;
    Recording tr, va;
    tr.input = readMono(data + "/train_input.flac", rate);
    tr.target = readMono(data + "/train_target.flac", rate);
    tr.label = "train";
    va.input = readMono(data + "/val_input.flac", rate);
    va.target = readMono(data + "/val_target.flac", rate);
    va.label = "val";
    c.sampleRate = rate;
    Model init = randomModel(c, o.seed);
    for (auto& w : init.weights.embeddingWeight) w *= static_cast<float>(embScale);
    for (auto& w : init.weights.embeddingBias) w *= static_cast<float>(embBias);
    if (headZero) for (auto& w : init.weights.headWeight) w = 0.0f;
    std::string growNote;
    if (!initModel.empty()) {
        if (from.config.sampleRate != c.sampleRate) {
            std::cerr << "--init-model " << initModel << " is a " << from.config.sampleRate << " Hz model; the data is " << rate << " Hz\n";
            return 2;
        }
        // a larger --d-state than the model has: widen its SSMs (new states start silent); more
        // --layers: deepen it (new layers start as the identity; both Train/Deepen.h)
        std::string widenNote;
        init.weights = deepened(widenedState(from, c.dState, o.seed, &widenNote), c.nLayers, o.seed, &growNote).weights;
        if (!widenNote.empty()) growNote = growNote.empty() ? widenNote : widenNote + "; " + growNote;
        if (!growNote.empty()) std::cerr << growNote << "\n";
        std::cerr << "starting from the weights of " << initModel << "\n";
    }
    std::string notice;
    auto backend = makeGradientBackend(device, c, o.threads, notice);
    if (!notice.empty()) std::cerr << notice << "\n";
    std::cerr << "gradients on " << backend->name() << "\n";
    if (hardware.empty()) hardware = backend->name() + ", float32 exact-gradient trainer (mfx::train)";
    Trainer trainer(init, {tr}, {va}, o, std::move(backend));
    if (!ckpt.empty()) {
        std::ifstream f(ckpt, std::ios::binary);
        if (f) {
            std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(f)), {});
            trainer.restore(b);
            std::cerr << "resumed at step " << trainer.stepIndex() << "\n";
            if (autoSteps) {
                std::cerr << "--steps auto starts a schedule; it cannot continue one from a checkpoint: "
                             "give the run's --steps, or a new --checkpoint\n";
                return 2;
            }
        }
    }
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    if (benchOnly > 0) {
        long n = 0;
        const std::clock_t c0 = std::clock();
        while (std::chrono::duration<double>(Clock::now() - t0).count() < benchOnly) { trainer.step(); ++n; }
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
        std::printf("%s threads %d: %.0f samples/s fwd+bwd wall, %.0f per CPU-second (%ld steps of %.0f samples in %.1f s)\n",
                    c.summary().c_str(), o.threads, n * trainer.samplesPerStep() / s, n * trainer.samplesPerStep() / cpu, n,
                    trainer.samplesPerStep(), s);
        std::printf("%s", trainer.backend().profileReport().c_str());
        if (std::getenv("MFX_BENCH_NO_VAL")) return 0;
        const auto v0 = Clock::now();
        const double e = trainer.validate();
        std::printf("validation forward: %.0f samples/s (ESR %.4f)\n", va.input.size() / std::chrono::duration<double>(Clock::now() - v0).count(), e);
        return 0;
    }
    // Validation runs on a snapshot in a second thread while training goes on.
    double best = 1e30, trainEsrSum = 0, lastTrainLoss = 0;
    long trainEsrN = 0;
    std::future<double> pending;
    Model pendingModel;
    long pendingStep = 0;
    double pendingTrainLoss = 0;
    auto secondsNow = [&]() { return priorSeconds + std::chrono::duration<double>(Clock::now() - t0).count(); };
    auto finishValidation = [&]() {
        if (!pending.valid()) return;
        const double e = pending.get();
        const double secs = secondsNow();
        std::printf("step %ld  train loss %.5f  val ESR %.5f  %.0f s\n", pendingStep, pendingTrainLoss, e, secs);
        std::fflush(stdout);
        if (e < best && std::isfinite(e)) {
            best = e;
            Model m = pendingModel;
            char date[32];
            const std::time_t now = std::time(nullptr);
            std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
            m.metadata.clear();
            m.metadata[meta::name] = "MambaFX High-Gain Amp";
            m.metadata[meta::description] =
                "Default MambaFX model: a high-gain guitar amplifier, trained on the amp-capture data set "
                "(a NAM WaveNet standard capture of a high-gain amp, driven by FluidR3 GM guitar and bass phrases).";
            m.metadata[meta::author] = "MambaFX";
            m.metadata[meta::license] = "MIT";
            m.metadata["sample_rate"] = std::to_string(rate);
            m.metadata[meta::validationEsr] = std::to_string(e);
            m.metadata[meta::validationEsrRest] = std::to_string(validationEsr(m, trainer.validationSet(), 1, nullptr, true));
            m.metadata[meta::trainEsr] = std::to_string(pendingTrainLoss);
            char lossNote[160];
            std::snprintf(lossNote, sizeof lossNote, "%s, %zu-sample segments after %zu samples of warm-up, batch %d",
                          o.loss.preEmphasis > 0 ? ("ESR with pre-emphasis 1 - " + std::to_string(o.loss.preEmphasis) + " z^-1").c_str() : "plain ESR",
                          o.segmentLength, o.warmup, o.batchSize);
            m.metadata["train_loss"] = lossNote;
            char schedule[200];
            std::snprintf(schedule, sizeof schedule,
                          "Adam, batch %d, lr %g with %ld warm-up steps and cosine decay to %g over %ld steps, gradient clipping at norm %g",
                          o.batchSize, o.adam.lr, o.adam.warmupSteps, o.adam.lrFinal, o.totalSteps, o.adam.clipNorm);
            m.metadata["train_schedule"] = schedule;
            m.metadata["init"] = std::string("reference Mamba initialisation") +
                                 (embBias == 0.0 ? " with the embedding bias" : "") +
                                 (headZero ? (embBias == 0.0 ? " and the head weights at zero" : " with the head weights at zero")
                                           : (embBias == 0.0 ? " at zero" : "")) +
                                 ", seed " + std::to_string(o.seed);
            if (!initModel.empty())
                m.metadata["init"] = "fine-tuned from the weights of " + initModel + " (fresh Adam state" +
                                     (growNote.empty() ? "" : "; " + growNote) + ")";
            m.metadata["validation_note"] = "ESR over the whole val_input/val_target pair (32 s), state from zero at the file's start; "
                                            "validation_esr_rest: the same from the model's rest state (its state under silence), "
                                            "where mambafx render, mambafx live and the plugin start";
            m.metadata["train_steps"] = std::to_string(pendingStep);
            m.metadata["train_time_s"] = std::to_string(static_cast<long>(secs));
            m.metadata["train_hardware"] = hardware;
            m.metadata["parameters"] = std::to_string(c.parameterCount());
            m.metadata["size"] = c.summary();
            m.metadata["latency_samples"] = "0";
            m.metadata[meta::date] = date;
            m.metadata["level_calibration"] =
                "levels as recorded: the model expects the amp-capture input levels (guitar DI phrase peaks between -30 and -3 dBFS) "
                "and outputs the amp's level; no dBu calibration was measured for this capture";
            saveModel(m, out);
        }
    };
    auto saveCheckpoint = [&]() {
        if (ckpt.empty()) return;
        const auto b = trainer.checkpoint();
        std::ofstream f(ckpt + ".tmp", std::ios::binary);
        f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
        f.close();
        std::rename((ckpt + ".tmp").c_str(), ckpt.c_str());
    };
    const auto valSet = trainer.validationSet();
    // --steps auto: the first steps (at least kProbeSteps, and at least 3 % of the time) measure the
    // step rate, on the warm-up ramp (which does not depend on the schedule's length) and then at the
    // peak learning rate; the cosine decay then spans what fits in the time left, with 5 % to spare,
    // so a time-limited run still ends at lrFinal. No validation until then (the schedule it would
    // record is not known yet).
    constexpr long kProbeSteps = 30;
    bool probing = autoSteps;
    if (autoSteps) trainer.setTotalSteps(o.totalSteps = std::numeric_limits<long>::max() / 4);
    while (trainer.stepIndex() < o.totalSteps) {
        const auto r = trainer.step();
        const double spent = std::chrono::duration<double>(Clock::now() - t0).count();
        if (probing && trainer.stepIndex() >= kProbeSteps && spent >= 0.03 * maxSeconds) {
            probing = false;
            const double rate = static_cast<double>(trainer.stepIndex()) / spent;
            o.totalSteps = std::max(o.adam.warmupSteps + 1,
                                    trainer.stepIndex() + std::max(1L, static_cast<long>(0.95 * rate * (maxSeconds - spent))));
            trainer.setTotalSteps(o.totalSteps);
            std::printf("--steps auto: %.1f steps/s over the first %ld steps, schedule of %ld steps for %g s\n", rate,
                        trainer.stepIndex(), o.totalSteps, maxSeconds);
            std::fflush(stdout);
        }
        trainEsrSum += r.loss;
        ++trainEsrN;
        const bool timeUp = maxSeconds > 0 && std::chrono::duration<double>(Clock::now() - t0).count() > maxSeconds;
        if ((!probing && trainer.stepIndex() % validateEvery == 0) || trainer.stepIndex() == o.totalSteps || timeUp) {
            lastTrainLoss = trainEsrSum / trainEsrN;
            std::printf("step %ld  train loss %.5f  lr %.2e  |g| %.3f  %.0f s\n", trainer.stepIndex(), lastTrainLoss, r.lr, r.gradNorm, secondsNow());
            std::fflush(stdout);
            finishValidation();
            saveCheckpoint();
            pendingModel = trainer.model();
            pendingStep = trainer.stepIndex();
            pendingTrainLoss = lastTrainLoss;
            pending = std::async(std::launch::async, [&valSet, &pendingModel]() { return validationEsr(pendingModel, valSet, 1); });
            if (syncVal) finishValidation(); // one thread at a time (shared machines)
            trainEsrSum = 0;
            trainEsrN = 0;
        }
        if (timeUp) break;
    }
    finishValidation();
    std::printf("done: best val ESR %.5f\n", best);
    return 0;
}

// A bad --init-model, an unreadable data file or a bad option value ends with its message, not a crash.
int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
