// mambafx train: learn a model from a recorded capture (see docs/MODELS.md).
//   mambafx train --input capture.wav --target recorded.wav -o my-amp.safetensors [--size standard]
//   mambafx train --input capture.wav --target gain=0:g0.wav --target gain=1:g1.wav -o amp.safetensors
// The best model by validation ESR is written to -o whenever it improves; a checkpoint
// (<output>.ckpt) is written every epoch and on Ctrl-C, and --resume continues from it.
#include <Train/Sizes.h>
#include "TrainCheckpointFiles.h"
#include "TrainCommands.h"
#include "TrainData.h"
#include "TrainPreflight.h"
#include "TrainRecipe.h"

#include <common/CommandLine.h>
#include <common/Errors.h>
#include <common/Interrupt.h>
#include <common/Progress.h>

#include <Model/ModelError.h>
#include <Model/ModelFile.h>
#include <Model/RandomModel.h>
#include <Train/Trainer.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace mfx::apps {

namespace {

namespace fs = std::filesystem;
using namespace mfx::train;

struct TrainArgs {
    std::string input, output, size = "standard", name, author, description, license = "unspecified";
    std::vector<std::string> targets;
    int epochs = 100;
    std::uint64_t seed = 1;
    bool resume = false, allowClipping = false, overwrite = false;
    long latency = -1;
    int threads = 0, batch = 8;
    std::size_t segment = 4096, warmup = 1024;
    double lr = 5e-3, preEmphasis = 0.0, maxMinutes = 0, stftWeight = 0.0; // lr: docs/MODELS.md, "Sizes"
    std::vector<int> stftSizes{256, 1024, 4096};
    std::string progress = "auto";
    std::string device = "auto";
    bool batchGiven = false, segmentGiven = false, warmupGiven = false; // else the backend's defaults
};

// Step sizes when not given: the CPU's, or on a GPU the default model's usual step, 16 x (4096 + 1024)
// (docs/MODELS.md; the GPU trainer's scans are time-parallel, so small batches fill the GPU too).
constexpr train::StepShape kGpuDefaults{16, 4096, 1024};

std::string fmt(double v, int prec) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}

std::string fmtShort(double v) { // 0.0003, 3e+29
    char b[64];
    std::snprintf(b, sizeof b, "%.2g", v);
    return b;
}

void runTrain(const TrainArgs& a) {
    const auto preset = mfx::train::sizePreset(a.size);
    if (!preset) throw UsageError("--size " + a.size + " is not known; choose one of " + mfx::train::kSizeNames);
    if (a.epochs < 1) throw UsageError("--epochs must be at least 1");
    if (!(a.lr > 0.0) || !std::isfinite(a.lr))
        throw UsageError("--lr must be a positive number (1e-3 to 5e-3 work for the built-in sizes), not " +
                         std::to_string(a.lr));
    const fs::path out(a.output);
    if (out.extension() != ".safetensors") throw UsageError("-o must name a .safetensors file (got '" + a.output + "')");
    const fs::path ckptPath = a.output + ".ckpt", statePath = a.output + ".ckpt.json";
    train::checkOutputFiles(out, ckptPath, a.resume, a.overwrite);
    train::checkTrainOptions(a.device, a.batch, a.segment, a.stftSizes, a.stftWeight);
    // The run state of the run to continue, read before any audio (and its step shape reused below).
    const train::RunState resumed = a.resume ? train::readRunState(statePath) : train::RunState{};
    // What would otherwise fail only when the first epoch's files are written, checked before any work.
    train::checkOutputFolder(out, {ckptPath, statePath});
    std::vector<train::TargetSpec> specs;
    for (const auto& t : a.targets) specs.push_back(train::parseTargetSpec(t));
    const std::string modelName = a.name.empty() ? out.stem().string() : a.name;
    const std::string description =
        a.description.empty() ? "Captured with mambafx train from " + train::targetNames(specs) : a.description;
    std::vector<train::MetadataText> texts = {
        {a.name.empty() ? "the model name, taken from the file name of -o (give one with --name)" : "--name", modelName},
        {a.description.empty() ? "the description, which names the --target files (give one with --description)" : "--description",
         description},
        {"--author", a.author},
        {"--license", a.license}};
    for (const auto& spec : specs)
        for (const auto& k : spec.knobs) texts.push_back({"a knob name in --target (the part before '=')", k.first});
    train::checkMetadataTexts(texts);

    train::DataOptions dopt;
    dopt.latency = a.latency;
    dopt.allowClipping = a.allowClipping;
    train::PreparedData data = train::prepareData(a.input, specs, dopt);
    for (const auto& n : data.notes) printNote(n);
    for (const auto& n : data.latencyNotes) std::cerr << "latency: " << n << "\n";
    for (const auto& w : data.warnings) std::cerr << "warning: " << w << "\n";

    Config c = *preset;
    c.nCond = static_cast<int>(data.knobs.size());
    c.sampleRate = data.sampleRate;
    TrainOptions o;
    o.threads = a.threads > 0 ? a.threads : std::max(1u, std::thread::hardware_concurrency());
    std::string notice;
    std::unique_ptr<GradientBackend> backend;
    try {
        backend = makeGradientBackend(a.device, c, o.threads, notice);
    } catch (const ModelError& e) {
        throw UsageError(std::string("--device: ") + e.what());
    }
    if (!notice.empty()) printNote(notice);
    const bool onGpu = backend->name().rfind("cuda", 0) == 0;
    train::GivenStepShape given;
    if (a.batchGiven) given.batch = a.batch;
    if (a.segmentGiven) given.segment = a.segment;
    if (a.warmupGiven) given.warmup = a.warmup;
    const train::StepShape shape = train::chooseStepShape(given, resumed.recipe, onGpu ? kGpuDefaults : train::StepShape{a.batch, a.segment, a.warmup});
    const int batch = shape.batch;
    const std::size_t segment = shape.segment, warmup = shape.warmup;
    if (onGpu && !shape.fromRun && !(a.batchGiven && a.segmentGiven && a.warmupGiven))
        printNote("on the GPU, steps of " + std::to_string(batch) + " x (" + std::to_string(segment) + " + " + std::to_string(warmup) +
                  " warm-up) samples unless --batch, --segment, --warmup say otherwise");
    o.segmentLength = segment;
    o.warmup = warmup;
    o.batchSize = batch;
    o.seed = a.seed;
    o.loss.preEmphasis = a.preEmphasis;
    o.loss.stftWeight = a.stftWeight;
    o.loss.stftSizes = a.stftSizes;
    o.adam.lr = a.lr;
    o.adam.lrFinal = a.lr / 100;
    if (batch < 1 || segment < 64) throw UsageError("--batch must be >= 1 and --segment >= 64");
    std::size_t trainSamples = 0;
    for (const auto& r : data.train) trainSamples += r.input.size();
    const long stepsPerEpoch = std::max(1L, static_cast<long>(trainSamples / (static_cast<std::size_t>(batch) * segment)));
    o.totalSteps = stepsPerEpoch * a.epochs;
    o.adam.warmupSteps = std::min<long>(100, o.totalSteps / 10);

    Model init = randomModel(c, a.seed);
    // Two departures from the reference init that get distortion captures off the ESR = 1 plateau
    // (measured on the amp-capture data, see docs/MODELS.md "Training"): the embedding starts without
    // bias, so the first RMSNorm sees the signal itself (a soft clipper), and the head starts at zero,
    // so the model starts from silence instead of loud random output.
    for (auto& b : init.weights.embeddingBias) b = 0.0f;
    for (auto& w : init.weights.headWeight) w = 0.0f;
    const std::string hardware = backend->name();
    std::unique_ptr<Trainer> trainerPtr;
    try {
        trainerPtr = std::make_unique<Trainer>(init, data.train, data.val, o, std::move(backend));
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what()); // segments that do not fit the recordings: options, not files
    }
    Trainer& trainer = *trainerPtr;
    {
        // Validation renders through the same kind of backend as `mambafx render` (GPU or the
        // offline CPU path): the ESR printed and stored is what the engines produce.
        OfflineOptions cpu;
        cpu.numThreads = o.threads;
        std::string vnotice;
        trainer.setValidationBackend(makeBackend(a.device, c, cpu, vnotice));
        if (!vnotice.empty()) printNote("validation: " + vnotice);
    }
    train::RunState rs;
    long savedStep = -1; // the step of the newest checkpoint on disk from this run (or the one resumed), -1 if none yet
    const train::Recipe recipe = train::makeRecipe(c, o, data);
    if (a.resume) {
        const std::vector<std::uint8_t> bytes = train::readCheckpoint(ckptPath);
        rs = resumed;
        train::checkResumeRecipe(rs.recipe, recipe, ckptPath.string()); // before the checkpoint's own shape check
        try {
            trainer.restore(bytes);
        } catch (const std::runtime_error& e) {
            throw Failure("cannot resume from " + ckptPath.string() + ": " + e.what());
        }
        if (!fs::exists(out)) {
            // Stopped before a model was written, or the model was removed: the first epoch writes one.
            rs.bestEsr = train::RunState{}.bestEsr;
            printNote(a.output + " does not exist: the first epoch writes it");
        }
        savedStep = trainer.stepIndex();
        // --epochs changed: the steps since the last change followed the earlier schedule; the
        // metadata says so (a schedule no step followed is not recorded)
        if (rs.scheduleSteps > 0 && rs.scheduleSteps != o.totalSteps && trainer.stepIndex() > rs.scheduleFrom) {
            rs.scheduleHistory += "steps " + std::to_string(rs.scheduleFrom + 1) + "-" + std::to_string(trainer.stepIndex()) + " of a " +
                                  std::to_string(rs.scheduleSteps) + "-step schedule; ";
            rs.scheduleFrom = trainer.stepIndex();
        }
        std::cerr << "resuming at epoch " << trainer.stepIndex() / stepsPerEpoch + 1 << " (step " << trainer.stepIndex() << ")\n";
    }
    rs.recipe = recipe;
    rs.scheduleSteps = o.totalSteps;
    std::cerr << "training " << c.summary() << " on " << fmt(static_cast<double>(trainSamples) / data.sampleRate, 1) << " s of audio, "
              << a.epochs << (a.epochs == 1 ? " epoch of " : " epochs of ") << stepsPerEpoch << " steps, on " << hardware << "\n";

    auto saveCheckpoint = [&]() {
        train::writeCheckpoint(ckptPath, trainer.checkpoint());
        savedStep = trainer.stepIndex();
        train::writeRunState(statePath, rs);
    };
    auto saveBest = [&](double esrVal, double trainLoss) {
        Model m = trainer.model();
        char date[32];
        const std::time_t now = std::time(nullptr);
        std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
        m.metadata[meta::name] = modelName;
        m.metadata[meta::description] = description;
        if (!a.author.empty()) m.metadata[meta::author] = a.author;
        m.metadata[meta::license] = a.license;
        m.metadata["sample_rate"] = std::to_string(data.sampleRate);
        m.metadata[meta::validationEsr] = fmt(esrVal, 6);
        // From the rest state too: what the plugin, `mambafx live` and `mambafx render` produce.
        m.metadata[meta::validationEsrRest] = fmt(validationEsr(m, trainer.validationSet(), o.threads, nullptr, true), 6);
        if (trainLoss >= 0) m.metadata[meta::trainEsr] = fmt(trainLoss, 6); // < 0: not measured (see below)
        m.metadata["size"] = a.size;
        std::string lossText = a.preEmphasis > 0 ? "ESR with pre-emphasis " + fmt(a.preEmphasis, 2) : std::string("plain ESR");
        if (a.stftWeight > 0) {
            lossText += " + " + fmt(a.stftWeight, 3) + " x multi-resolution STFT (FFT sizes";
            for (std::size_t i = 0; i < a.stftSizes.size(); ++i) lossText += (i ? ", " : " ") + std::to_string(a.stftSizes[i]);
            lossText += ")";
        }
        m.metadata["train_loss"] = lossText;
        m.metadata["train_schedule"] = train::describeSchedule(o, a.epochs, stepsPerEpoch);
        if (!rs.scheduleHistory.empty()) // resumed with another --epochs: the learning rate followed these first
            m.metadata["train_schedule"] += " (resumed with another --epochs: " +
                                            rs.scheduleHistory.substr(0, rs.scheduleHistory.size() - 2) + ", then this one)";
        m.metadata["train_targets"] = train::targetNames(specs);
        m.metadata["parameters"] = std::to_string(c.parameterCount());
        long lat = 0;
        for (long l : data.latencies) lat = std::max(lat, l);
        m.metadata["latency_samples"] = std::to_string(lat);
        m.metadata["train_time_s"] = std::to_string(static_cast<long>(rs.seconds));
        m.metadata["train_steps"] = std::to_string(trainer.stepIndex());
        m.metadata["train_hardware"] = hardware + " (mambafx train)";
        m.metadata["input_peak_dbfs"] = fmt(data.inputPeakDb, 2);
        m.metadata["target_peak_dbfs"] = fmt(data.targetPeakDb, 2);
        m.metadata[meta::date] = date;
        if (!data.knobs.empty()) m.metadata[meta::conditioning] = train::conditioningJson(data.knobs);
        try {
            saveModel(m, a.output);
        } catch (const ModelError& e) {
            throw Failure(std::string(e.what()) + "; the checkpoint " + ckptPath.string() +
                          " holds this epoch's training: once that is fixed, continue with --resume");
        }
    };

    // A resumed run that has done every step this command asks for trains nothing. If its model is
    // missing (the last epoch's could not be written, or it was removed), the checkpoint's weights
    // are validated and written now.
    if (a.resume && trainer.stepIndex() >= o.totalSteps) {
        if (fs::exists(out) && rs.bestEsr < 1e299) {
            std::cerr << "the run in " << ckptPath.string() << " has done " << trainer.stepIndex() << " steps, all that --epochs "
                      << a.epochs << " asks for; nothing to train, " << a.output << " is unchanged (best validation ESR "
                      << fmt(rs.bestEsr, 5) << "): pass a larger --epochs to train on\n";
            return;
        }
        const double val = trainer.validate();
        if (!std::isfinite(val) || !trainer.parametersFinite())
            throw Failure("the checkpoint " + ckptPath.string() + " holds weights that are not finite; start again with --overwrite");
        saveBest(val, -1);
        rs.bestEsr = val;
        train::writeRunState(statePath, rs);
        std::cerr << "the run in " << ckptPath.string() << " had done all its steps; its model (validation ESR " << fmt(val, 5)
                  << ") is written to " << a.output << "\n";
        return;
    }
    ScopedInterruptHandler interrupts;
    const Progress::Mode mode = a.progress == "always" ? Progress::Mode::Always : a.progress == "never" ? Progress::Mode::Never : Progress::Mode::Auto;
    const bool tty = mode == Progress::Mode::Always || (mode == Progress::Mode::Auto && isatty(2));
    using Clock = std::chrono::steady_clock;
    auto last = Clock::now();
    const auto start = Clock::now();
    const double startSeconds = rs.seconds;
    const long stepsAtStart = trainer.stepIndex();
    double lossSum = 0;
    long lossN = 0;
    double lastVal = -1;
    bool improved = false; // an epoch of this command wrote the model
    // A NaN or infinite loss, validation ESR or weight: training has diverged; nothing of it is saved.
    auto diverged = [&]() {
        std::string m = "training diverged at step " + std::to_string(trainer.stepIndex()) +
                        ": the loss, the validation ESR or the weights are no longer finite numbers, and nothing from there was saved; ";
        if (savedStep >= 0)
            m += "the checkpoint " + ckptPath.string() + " holds step " + std::to_string(savedStep) +
                 ": continue from it with --resume and a lower --lr (e.g. " + fmtShort(a.lr / 3) + ")";
        else
            m += "start again with a lower --lr (e.g. " + fmtShort(a.lr / 3) + ")";
        return Failure(m);
    };
    while (trainer.stepIndex() < o.totalSteps) {
        if (interruptRequested()) {
            saveCheckpoint();
            std::cerr << "\nstopped at step " << trainer.stepIndex() << ": checkpoint saved to " << ckptPath.string()
                      << "; continue with the same command and --resume\n";
            throw Interrupted();
        }
        const StepResult r = trainer.step();
        if (!std::isfinite(r.loss)) throw diverged();
        lossSum += r.loss;
        ++lossN;
        const auto now = Clock::now();
        rs.seconds = startSeconds + std::chrono::duration<double>(now - start).count();
        const bool epochEnd = trainer.stepIndex() % stepsPerEpoch == 0 || trainer.stepIndex() == o.totalSteps;
        if (epochEnd) {
            const double trainLoss = lossSum / static_cast<double>(lossN);
            lossSum = 0;
            lossN = 0;
            lastVal = trainer.validate();
            if (!std::isfinite(trainLoss) || !std::isfinite(lastVal) || !trainer.parametersFinite()) throw diverged();
            const bool better = lastVal < rs.bestEsr;
            // The checkpoint first, so a model that cannot be written loses no training. The run state's
            // best ESR is that of the model on disk: it changes only once the model is written.
            saveCheckpoint();
            if (better) {
                saveBest(lastVal, trainLoss);
                improved = true;
                rs.bestEsr = lastVal;
                train::writeRunState(statePath, rs);
            }
            const long epoch = trainer.stepIndex() / stepsPerEpoch;
            const double done = static_cast<double>(trainer.stepIndex()) / static_cast<double>(o.totalSteps);
            const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
            (void)done;
            const double left = elapsed / static_cast<double>(std::max(1L, trainer.stepIndex() - stepsAtStart)) *
                                static_cast<double>(o.totalSteps - trainer.stepIndex());
            std::cerr << (tty ? "\r\033[K" : "") << "epoch " << epoch << "/" << a.epochs << "  loss " << fmt(trainLoss, 5) << "  val ESR "
                      << fmt(lastVal, 5) << (better ? " *" : "  ") << " (best " << fmt(rs.bestEsr, 5) << ")  "
                      << Progress::formatDuration(left) << " left" << "\n";
        } else if (tty && std::chrono::duration<double>(now - last).count() > 0.5) {
            last = now;
            const long inEpoch = trainer.stepIndex() % stepsPerEpoch;
            std::cerr << "\r\033[Kepoch " << trainer.stepIndex() / stepsPerEpoch + 1 << "/" << a.epochs << "  step " << inEpoch << "/"
                      << stepsPerEpoch << "  loss " << fmt(r.loss, 5) << std::flush;
        }
        // Checked every step (an epoch of a knob capture can take long), only while steps remain.
        if (a.maxMinutes > 0 && trainer.stepIndex() < o.totalSteps &&
            std::chrono::duration<double>(now - start).count() > 60 * a.maxMinutes) {
            if (savedStep != trainer.stepIndex()) saveCheckpoint();
            std::cerr << (tty ? "\r\033[K" : "") << "--max-minutes reached at step " << trainer.stepIndex() << " of " << o.totalSteps
                      << ": checkpoint saved; continue with the same command and --resume\n";
            break;
        }
    }
    if (improved)
        std::cerr << "best validation ESR " << fmt(rs.bestEsr, 5) << "; model written to " << a.output << "\n";
    else if (fs::exists(out) && rs.bestEsr < 1e299) // the run's model (after --overwrite an old file may still be there)
        std::cerr << "best validation ESR " << fmt(rs.bestEsr, 5) << ", from an earlier run: no epoch of this one did better, so "
                  << a.output << " is unchanged\n";
    else
        std::cerr << "no epoch finished, so no model was written yet; the checkpoint " << ckptPath.string()
                  << " holds the training: continue with --resume\n";
    if (fs::exists(out) && rs.bestEsr > 0.9 && rs.bestEsr < 1e299) {
        std::string lat;
        for (const auto& n : data.latencyNotes) lat += "\n  " + n;
        std::cerr << "warning: " << ("the model has learned almost nothing (validation ESR " + fmt(rs.bestEsr, 3) +
                     "; 1 is what silence would score): check the latency removed" + lat +
                     "\n  (give the right one with --latency if it is wrong), that the target is a recording of this input, "
                     "and train longer or a larger --size") << "\n";
    }
}

} // namespace

void addTrainCommand(CLI::App& app) {
    auto args = std::make_shared<TrainArgs>();
    CLI::App* cmd = app.add_subcommand("train", "Train a model from a capture: the input you played and the recorded target(s)");
    cmd->add_option("--input", args->input, "The dry signal played into the device (e.g. from 'mambafx capture-signal')")->required();
    cmd->add_option("--target", args->targets,
                    "The recording of the device's output. For knob captures give one per setting: --target gain=0.5:rec.wav")
        ->required();
    cmd->add_option("-o,--output", args->output, "The model file to write (.safetensors); <output>.ckpt holds the checkpoint")->required();
    cmd->add_option("--size", args->size, std::string("Model size: ") + mfx::train::kSizeNames + " (see docs/MODELS.md)")->capture_default_str();
    cmd->add_option("--epochs", args->epochs, "Passes over the training part")->capture_default_str();
    cmd->add_option("--seed", args->seed, "Random seed (same seed, same data, same threads-independent result)")->capture_default_str();
    cmd->add_flag("--resume", args->resume, "Continue from <output>.ckpt");
    cmd->add_option("--name", args->name, "Model name (metadata)");
    cmd->add_option("--author", args->author, "Author (metadata)");
    cmd->add_option("--description", args->description, "Description (metadata)");
    cmd->add_option("--license", args->license, "License of the model (metadata)")->capture_default_str();
    cmd->add_option("--latency", args->latency, "Latency to remove in samples (default: detect it)")
        ->check(finiteRange(0, 1e12))
        ->type_name("SAMPLES");
    cmd->add_flag("--allow-clipping", args->allowClipping, "Train even if the target is clipped");
    cmd->add_flag("--overwrite", args->overwrite, "Replace an existing output file");
    cmd->add_option("--device", args->device, "Where the training runs: auto (a CUDA GPU if present), cpu, cuda, cuda:N")
        ->capture_default_str();
    cmd->add_option("--threads", args->threads, "CPU threads (default: all; also used for validation on a GPU run)")->check(CLI::Range(0, 1024));
    auto* batchOpt = cmd->add_option("--batch", args->batch, "Segments per step (on a GPU: " + std::to_string(kGpuDefaults.batch) + " unless given)")->capture_default_str();
    auto* segmentOpt = cmd->add_option("--segment", args->segment, "Samples per segment counted by the loss (on a GPU: " + std::to_string(kGpuDefaults.segment) + " unless given)")
                           ->capture_default_str();
    auto* warmupOpt = cmd->add_option("--warmup", args->warmup, "Samples run before each segment so the state settles (on a GPU: " + std::to_string(kGpuDefaults.warmup) + " unless given)")
                          ->capture_default_str();
    cmd->add_option("--lr", args->lr, "Peak learning rate (Adam; cosine decay to lr/100)")->capture_default_str();
    cmd->add_option("--pre-emphasis", args->preEmphasis, "Pre-emphasis coefficient of the loss (0 = plain ESR; 0.85-0.95 usual)")->capture_default_str()->check(finiteRange(0.0, 0.999));
    cmd->add_option("--stft-weight", args->stftWeight,
                    "Weight of the multi-resolution STFT term added to the ESR loss (0 = off; e.g. 0.1)")->capture_default_str()->check(finiteRange(0.0, 1000.0));
    cmd->add_option("--stft-sizes", args->stftSizes, "FFT sizes of the STFT term (hop size/4, Hann window)")
        ->capture_default_str()->delimiter(',');
    cmd->add_option("--max-minutes", args->maxMinutes, "Stop (with a checkpoint) after this many minutes")->check(finiteRange(0.0, 1e7));
    cmd->add_option("--progress", args->progress, "auto | always | never")->capture_default_str();
    cmd->footer("Writes <output>, <output>.ckpt and <output>.ckpt.json (each under a temporary name, then renamed).\n"
                "Exit status: 0 done, 1 a file or training problem, 2 a command-line problem, 130 interrupted (checkpoint saved).");
    cmd->callback([args, batchOpt, segmentOpt, warmupOpt]() {
        args->batchGiven = batchOpt->count() > 0;
        args->segmentGiven = segmentOpt->count() > 0;
        args->warmupGiven = warmupOpt->count() > 0;
        runTrain(*args);
    });
}

} // namespace mfx::apps
