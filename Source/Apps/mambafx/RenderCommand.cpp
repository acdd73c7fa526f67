// mambafx render [--model FILE] INPUT... (-o OUTPUT | --out-dir DIR): audio files through a model.
// The work is in common/RenderPlan (inputs -> jobs, safety checks) and common/RenderPipeline
// (streaming render of one file); this file is the command-line shell around them.
#include "Commands.h"

#include <common/CommandLine.h>
#include <common/DefaultModel.h>
#include <common/Errors.h>
#include <common/Interrupt.h>
#include <common/Progress.h>
#include <common/RenderPipeline.h>
#include <common/RenderPlan.h>

#include <Backend/Backend.h>
#include <Model/ModelError.h>
#include <Model/ModelFile.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <regex>

namespace mfx::apps {

namespace {

namespace fs = std::filesystem;

struct RenderOptions {
    std::string model;
    std::vector<std::string> inputs;
    std::string output;
    std::string outDir;
    std::string format;
    std::string bitDepth;
    double inputGainDb = 0.0;
    double outputGainDb = 0.0;
    double mix = 1.0;
    std::string device = "auto";
    int threads = 0;
    std::string quality = "best";
    std::vector<std::string> conditioning;
    bool overwrite = false;
    bool progress = false;
    bool quiet = false;
};

Model loadRenderModel(const std::string& path) {
    std::string file = path;
    if (file.empty()) {
        const auto candidates = defaultModelCandidates();
        const auto found = findDefaultModel(candidates);
        if (!found) {
            std::string looked;
            for (const auto& c : candidates) looked += "\n  " + c.string();
            throw UsageError("no model given and no bundled default model found (looked in:" + looked +
                             ")\npass one with --model FILE.safetensors");
        }
        file = found->string();
    }
    try {
        return loadModel(file);
    } catch (const ModelError& e) {
        throw Failure(std::string("cannot use the model: ") + e.what());
    }
}

// --cond NAME=VALUE (or INDEX=VALUE) over the defaults from the model's "conditioning" metadata.
std::vector<float> resolveConditioning(const Model& model, const std::vector<std::string>& given) {
    const int nCond = model.config.nCond;
    if (nCond == 0) {
        if (!given.empty()) throw UsageError("--cond: this model has no conditioning inputs");
        return {};
    }
    struct Knob {
        std::string name;
        double min = -1e30, max = 1e30, value = 0.0;
    };
    std::vector<Knob> knobs(static_cast<std::size_t>(nCond));
    for (int i = 0; i < nCond; ++i) knobs[static_cast<std::size_t>(i)].name = std::to_string(i);
    if (auto it = model.metadata.find(meta::conditioning); it != model.metadata.end()) {
        try {
            const auto j = nlohmann::json::parse(it->second);
            for (std::size_t i = 0; i < j.size() && i < knobs.size(); ++i) {
                knobs[i].name = j[i].value("name", knobs[i].name);
                knobs[i].min = j[i].value("min", knobs[i].min);
                knobs[i].max = j[i].value("max", knobs[i].max);
                knobs[i].value = j[i].value("default", 0.0);
            }
        } catch (const std::exception&) {
            printNote("the model's conditioning metadata is not readable; conditioning defaults to 0");
        }
    }
    for (const auto& text : given) {
        const auto eq = text.find('=');
        if (eq == std::string::npos) throw UsageError("--cond wants NAME=VALUE, got '" + text + "'");
        const std::string name = text.substr(0, eq);
        Knob* knob = nullptr;
        for (auto& k : knobs)
            if (k.name == name) knob = &k;
        if (!knob && name.find_first_not_of("0123456789") == std::string::npos && !name.empty() &&
            std::stoul(name) < knobs.size())
            knob = &knobs[std::stoul(name)];
        if (!knob) {
            std::string names;
            for (const auto& k : knobs) names += (names.empty() ? "" : ", ") + k.name;
            throw UsageError("--cond: the model has no input named '" + name + "' (it has: " + names + ")");
        }
        char* end = nullptr;
        const double v = std::strtod(text.c_str() + eq + 1, &end);
        if (end == text.c_str() + eq + 1 || *end != '\0' || !std::isfinite(v))
            throw UsageError("--cond " + name + ": '" + text.substr(eq + 1) + "' is not a number");
        if (v < knob->min || v > knob->max)
            throw UsageError("--cond " + name + "=" + text.substr(eq + 1) + " is outside the model's range [" +
                             std::to_string(knob->min) + ", " + std::to_string(knob->max) + "]");
        knob->value = v;
    }
    std::vector<float> values;
    for (const auto& k : knobs) values.push_back(static_cast<float>(k.value));
    return values;
}

std::string summaryLine(const RenderJob& job, const RenderStats& stats, double modelRate) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%.2f s, %d ch, %d Hz%s, %.1fx real-time", stats.audioSeconds, job.info.channels,
                  job.info.sampleRate,
                  stats.resampled ? (" (resampled via the model's " + std::to_string(std::lround(modelRate)) + " Hz)").c_str() : "",
                  Progress::realtimeFactor(stats.audioSeconds, stats.wallSeconds));
    return job.input.string() + " -> " + job.output.string() + "  " + buf;
}

void runRender(const RenderOptions& o) {
    // 1. Options that cannot work together (exit 2).
    PlanRequest request;
    request.inputs = o.inputs;
    if (!o.output.empty()) request.output = fs::path(o.output);
    if (!o.outDir.empty()) request.outDir = fs::path(o.outDir);
    if (!o.format.empty()) {
        request.format = findFormatByName(o.format);
        if (!request.format) throw UsageError("--format " + o.format + " is not known; use one of: " + knownFormatNames());
    }
    if (!o.bitDepth.empty()) {
        const auto depth = parseBitDepth(o.bitDepth);
        if (!depth) throw UsageError("--bit-depth " + o.bitDepth + " is not known; use 16, 24, 32, float or double");
        request.bitDepth = *depth;
    }
    request.overwrite = o.overwrite;
    static const std::regex deviceSyntax("auto|cpu|cuda(:[0-9]+)?");
    if (!std::regex_match(o.device, deviceSyntax))
        throw UsageError("--device " + o.device + " is not known; use auto, cpu, cuda or cuda:N");
    const auto quality = parseResamplerQuality(o.quality);
    if (!quality) throw UsageError("--resample-quality " + o.quality + " is not known; use best, medium or fast");

    // 2. Inputs -> jobs, with every file problem reported before any work starts.
    const Plan plan = planRender(request);
    if (!o.quiet)
        for (const auto& note : plan.notes) printNote(note);
    if (!plan.errors.empty()) {
        for (const auto& e : plan.errors) printError(e);
        std::cerr << "nothing was rendered" << std::endl;
        throw ExitRequest{kExitFailure};
    }

    // 3. Model and backend.
    const Model model = loadRenderModel(o.model);
    RenderSettings settings;
    settings.inputGain = decibelsToGain(o.inputGainDb);
    settings.outputGain = decibelsToGain(o.outputGainDb);
    settings.mix = static_cast<float>(o.mix);
    settings.quality = *quality;
    settings.conditioning = resolveConditioning(model, o.conditioning);
    OfflineOptions cpuOptions;
    cpuOptions.numThreads = o.threads;
    cpuOptions.windowSamples = settings.windowFrames;
    std::string notice;
    std::unique_ptr<RenderBackend> backend;
    try {
        backend = makeBackend(o.device, model.config, cpuOptions, notice);
    } catch (const ModelError& e) {
        throw Failure(std::string("cannot start the ") + o.device + " backend: " + e.what());
    }
    if (!backend) throw Failure("no backend available for --device " + o.device);
    if (!notice.empty() && !o.quiet) printNote(notice);
    if (!o.quiet)
        std::cout << "model " << model.name() << " (" << model.config.summary() << ") on " << backend->name() << std::endl;

    // 4. Render, file by file.
    double totalSeconds = 0.0;
    for (const auto& job : plan.jobs) totalSeconds += job.info.seconds();
    Progress progress(totalSeconds, o.progress ? Progress::Mode::Always : (o.quiet ? Progress::Mode::Never : Progress::Mode::Auto));
    ScopedInterruptHandler interruptHandler;
    clearInterrupt();

    double doneSeconds = 0.0, wallSeconds = 0.0;
    std::size_t failed = 0;
    for (const auto& job : plan.jobs) {
        progress.setLabel(job.input.filename().string());
        const double base = doneSeconds;
        try {
            const RenderStats stats = renderFile(job, model, *backend, settings, [&](std::int64_t frames) {
                progress.update(base + static_cast<double>(frames) / job.info.sampleRate);
            });
            doneSeconds = base + job.info.seconds();
            wallSeconds += stats.wallSeconds;
            progress.clear();
            if (!o.quiet) std::cout << summaryLine(job, stats, model.config.sampleRate) << std::endl;
            if (stats.clippedSamples > 0 && !o.quiet) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%.1f", 20.0 * std::log10(static_cast<double>(stats.peak)));
                printNote(job.output.string() + ": " + std::to_string(stats.clippedSamples) + " samples clipped (peak +" +
                          buf + " dBFS); lower --output-gain or write --bit-depth float");
            }
        } catch (const Interrupted&) {
            progress.finish();
            std::cerr << "interrupted: removed the unfinished " << job.output.string() << std::endl;
            throw ExitRequest{kExitInterrupted};
        } catch (const std::exception& e) {
            progress.clear();
            const std::string what = e.what();
            printError(what.find(job.input.string()) == std::string::npos ? job.input.string() + ": " + what : what);
            ++failed;
        }
    }
    progress.finish();
    if (plan.jobs.size() > 1 && !o.quiet) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "rendered %zu of %zu files, %.1f s of audio, %.1fx real-time",
                      plan.jobs.size() - failed, plan.jobs.size(), doneSeconds,
                      Progress::realtimeFactor(doneSeconds, wallSeconds));
        std::cout << buf << std::endl;
    }
    if (failed > 0) {
        std::cerr << failed << " of " << plan.jobs.size() << " file(s) failed; no partial outputs were left behind"
                  << std::endl;
        throw ExitRequest{kExitFailure};
    }
}

} // namespace

void addRenderCommand(CLI::App& app) {
    auto o = std::make_shared<RenderOptions>();
    CLI::App* cmd = app.add_subcommand("render", "Render audio files or folders through a model");
    cmd->add_option("INPUT", o->inputs, "Audio files or folders (searched recursively)")->required()->type_name("PATH");
    cmd->add_option("-m,--model", o->model, "Model file (.safetensors); default: the bundled default model")->type_name("FILE");
    auto* out = cmd->add_option("-o,--output", o->output, "Output file (one input file only)")->type_name("FILE");
    auto* dir = cmd->add_option("-d,--out-dir", o->outDir, "Output folder; folders given as input keep their tree below it")->type_name("DIR");
    out->excludes(dir);
    cmd->add_option("-f,--format", o->format, "Output format: " + knownFormatNames() + " (default: from -o's name, else the input's)")->type_name("NAME");
    cmd->add_option("-b,--bit-depth", o->bitDepth, "16, 24, 32, float or double (default: the input's)")->type_name("DEPTH");
    cmd->add_option("--input-gain", o->inputGainDb, "Gain before the model, dB (default 0)")->type_name("DB")->check(CLI::Range(-120.0, 60.0));
    cmd->add_option("--output-gain", o->outputGainDb, "Gain after the dry/wet mix, dB (default 0)")->type_name("DB")->check(CLI::Range(-120.0, 60.0));
    cmd->add_option("--mix", o->mix, "Dry/wet: 0 = input only, 1 = model only (default 1)")->type_name("X")->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--cond", o->conditioning, "Conditioning input NAME=VALUE (repeatable; default: the model's defaults)")
        ->type_name("NAME=VALUE")
        ->allow_extra_args(false);
    cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default auto)")->type_name("DEVICE");
    cmd->add_option("-j,--threads", o->threads, "CPU threads (default 0 = all cores)")->type_name("N")->check(CLI::Range(0, 1024));
    cmd->add_option("--resample-quality", o->quality, "Sample rate conversion: best, medium or fast (default best)")->type_name("Q");
    cmd->add_flag("--overwrite", o->overwrite, "Replace existing output files (inputs are never overwritten)");
    cmd->add_flag("--progress", o->progress, "Show the progress bar even when stderr is not a terminal");
    cmd->add_flag("-q,--quiet", o->quiet, "Print only errors");
    cmd->footer("Files are written to '<output>.tmp-<pid>' and renamed when complete.\n"
                "Exit status: 0 done, 1 a file or model problem, 2 a command-line problem, 130 interrupted.");
    cmd->callback([o] { runRender(*o); });
}

} // namespace mfx::apps
