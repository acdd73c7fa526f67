// mambafx render [--model FILE] INPUT... (-o OUTPUT | --out-dir DIR): audio files through a model.
// The work is in common/: RenderPlan (inputs -> jobs, --shard, safety checks), RenderSetup (model,
// conditioning, backends for --device/--devices), RenderRunner (the batch over one or more backends)
// and RenderPipeline (streaming render of one file); this file is the command-line shell around them.
#include "Commands.h"

#include <common/CommandLine.h>
#include <common/Errors.h>
#include <common/Interrupt.h>
#include <common/Progress.h>
#include <common/RenderPipeline.h>
#include <common/RenderPlan.h>
#include <common/RenderRunner.h>
#include <common/RenderSelect.h>
#include <common/RenderSetup.h>

#include <Engine/RestState.h>
#include <Model/ModelError.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
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
    bool deviceGiven = false;  // --device was on the command line
    std::string devices;       // --devices LIST
    bool devicesGiven = false; // (even as an empty string: an error, not "every GPU")
    std::string shard;         // --shard K/N
    bool shardGiven = false;   // (even as an empty string: an error, not "every file")
    int threads = 0;
    std::string quality = "best";
    std::string scan = "lanes";
    std::string initialState = "rest";
    std::vector<std::string> conditioning;
    bool overwrite = false;
    bool skipExisting = false;
    bool progress = false;
    bool quiet = false;
};

void printSkipped(const Plan& plan) {
    constexpr std::size_t kListed = 20; // a resumed dataset run may skip thousands: list a few, count all
    for (std::size_t i = 0; i < plan.skipped.size() && i < kListed; ++i)
        printNote("skipping '" + plan.skipped[i].string() + "': the output exists (--skip-existing)");
    if (plan.skipped.size() > kListed)
        printNote("... and " + std::to_string(plan.skipped.size() - kListed) + " more existing outputs skipped");
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
    request.skipExisting = o.skipExisting;
    if (o.overwrite && o.skipExisting) throw UsageError("--overwrite and --skip-existing contradict each other; keep one");
    if (o.shardGiven) request.shard = parseShard(o.shard);
    static const std::regex deviceSyntax("auto|cpu|cuda(:[0-9]+)?");
    if (!std::regex_match(o.device, deviceSyntax))
        throw UsageError("--device " + o.device + " is not known; use auto, cpu, cuda or cuda:N");
    std::optional<DeviceList> devices;
    if (o.devicesGiven) {
        if (o.deviceGiven)
            throw UsageError("--devices " + o.devices + " and --device " + o.device +
                             " cannot be combined: --devices picks the GPUs to spread the files over, --device picks "
                             "the one device for all files; keep one");
        devices = parseDeviceList(o.devices);
    }
    const auto quality = parseResamplerQuality(o.quality);
    if (!quality) throw UsageError("--resample-quality " + o.quality + " is not known; use best, medium or fast");
    if (o.initialState != "rest" && o.initialState != "zero")
        throw UsageError("--initial-state " + o.initialState + " is not known; use rest or zero");

    // 2. Inputs -> jobs, with every file problem reported before any work starts.
    const Plan plan = planRender(request);
    if (!o.quiet) {
        for (const auto& note : plan.notes) printNote(note);
        printSkipped(plan);
    }
    if (!plan.errors.empty()) {
        for (const auto& e : plan.errors) printError(e);
        std::cerr << "nothing was rendered" << std::endl;
        throw ExitRequest{plan.errors.size() == plan.usageErrors ? kExitUsage : kExitFailure};
    }

    // 3. Model and backends.
    const Model model = loadRenderModel(o.model);
    RenderSettings settings;
    settings.inputGain = decibelsToGain(o.inputGainDb);
    settings.outputGain = decibelsToGain(o.outputGainDb);
    settings.mix = static_cast<float>(o.mix);
    settings.quality = *quality;
    settings.conditioning = resolveConditioning(model, o.conditioning);
    if (o.initialState == "rest") {
        try {
            settings.initialState = engineRestState(model, settings.conditioning.empty() ? nullptr : settings.conditioning.data());
        } catch (const ModelError& e) {
            throw Failure(model.name() + ": " + e.what() + "; render with --initial-state zero");
        }
    }
    OfflineOptions cpuOptions;
    cpuOptions.numThreads = o.threads;
    cpuOptions.windowSamples = settings.windowFrames;
    if (o.scan == "chunked") cpuOptions.scan = ScanMode::TimeChunked;
    else if (o.scan != "lanes") throw UsageError("--scan " + o.scan + " is not known; use lanes or chunked");
    const BackendChoice choice = chooseBackends(o.device, devices, model.config, cpuOptions);
    std::vector<RenderBackend*> backends;
    std::string names;
    for (const auto& b : choice.backends) {
        backends.push_back(b.get());
        names += (names.empty() ? "" : ", ") + b->name();
    }
    if (!o.quiet) {
        for (const auto& note : choice.notes) printNote(note);
        std::cout << "model " << model.name() << " (" << model.config.summary() << ") on " << names << std::endl;
        if (request.shard.count > 1)
            std::cout << "shard " << request.shard.index << "/" << request.shard.count << ": " << plan.filesInShard
                      << " of " << plan.filesFound << " files" << std::endl;
    }

    // 4. Render.
    ScopedInterruptHandler interruptHandler;
    clearInterrupt();
    BatchOptions batch;
    batch.progress = o.progress ? Progress::Mode::Always : (o.quiet ? Progress::Mode::Never : Progress::Mode::Auto);
    batch.quiet = o.quiet;
    const BatchResult result = renderBatch(plan.jobs, model, backends, settings, batch);
    if (result.interrupted) throw ExitRequest{kExitInterrupted};
    if ((plan.jobs.size() > 1 || !plan.skipped.empty() || request.shard.count > 1) && !o.quiet) {
        const std::string skipped =
            plan.skipped.empty() ? "" : "; skipped " + std::to_string(plan.skipped.size()) + " (outputs exist)";
        if (plan.jobs.empty()) {
            std::cout << "nothing to render" << skipped << std::endl;
        } else {
            char buf[200];
            std::snprintf(buf, sizeof buf, "rendered %zu of %zu files, %.1f s of audio, %.1fx real-time", result.rendered,
                          plan.jobs.size(), result.audioSeconds,
                          Progress::realtimeFactor(result.audioSeconds, result.wallSeconds));
            std::cout << buf << skipped << std::endl;
        }
    }
    if (result.failed > 0) {
        std::cerr << result.failed << " of " << plan.jobs.size()
                  << " file(s) failed; no partial outputs were left behind" << std::endl;
        throw ExitRequest{kExitFailure};
    }
}

} // namespace

void addRenderCommand(CLI::App& app) {
    auto o = std::make_shared<RenderOptions>();
    CLI::App* cmd = app.add_subcommand("render", "Render audio files or folders through a model");
    cmd->add_option("INPUT", o->inputs, "Audio files or folders (searched recursively)")->required()->type_name("PATH");
    cmd->add_option("-m,--model", o->model, "Model file (.safetensors); default: the bundled default model")->type_name("FILE")->check(nonEmpty());
    auto* out = cmd->add_option("-o,--output", o->output, "Output file (one input file only)")->type_name("FILE");
    auto* dir = cmd->add_option("-d,--out-dir", o->outDir, "Output folder; folders given as input keep their tree below it")->type_name("DIR");
    out->excludes(dir);
    cmd->add_option("-f,--format", o->format, "Output format: " + knownFormatNames() + " (default: from -o's name, else the input's)")->type_name("NAME");
    cmd->add_option("-b,--bit-depth", o->bitDepth, "16, 24, 32, float or double (default: the input's)")->type_name("DEPTH");
    cmd->add_option("--input-gain", o->inputGainDb, "Gain before the model, dB (default 0)")->type_name("DB")->check(finiteRange(-120.0, 60.0));
    cmd->add_option("--output-gain", o->outputGainDb, "Gain after the dry/wet mix, dB (default 0)")->type_name("DB")->check(finiteRange(-120.0, 60.0));
    cmd->add_option("--mix", o->mix, "Dry/wet: 0 = input only, 1 = model only (default 1)")->type_name("X")->check(finiteRange(0.0, 1.0));
    cmd->add_option("--cond", o->conditioning, "Conditioning input NAME=VALUE (repeatable; default: the model's defaults)")
        ->type_name("NAME=VALUE")
        ->allow_extra_args(false);
    auto* device = cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default auto)")->type_name("DEVICE");
    auto* devices = cmd->add_option("--devices", o->devices,
                                    "Spread the files over these GPUs, one worker each: 0,1,... or all (no GPU: the CPU renders)")
                        ->type_name("LIST");
    auto* shard = cmd->add_option("--shard", o->shard,
                                  "Render only shard K of N of the sorted input files (file i when i mod N = K), e.g. "
                                  "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT")
                      ->type_name("K/N");
    cmd->add_option("-j,--threads", o->threads, "CPU threads (default 0 = all cores)")->type_name("N")->check(CLI::Range(0, 1024));
    cmd->add_option("--resample-quality", o->quality, "Sample rate conversion: best, medium or fast (default best)")->type_name("Q");
    cmd->add_option("--scan", o->scan,
                    "CPU path's scan: lanes (channel lanes on threads, bitwise the plugin's output; default) or chunked "
                    "(time-parallel: time chunks on threads, within 1e-5 of it)")
        ->type_name("MODE");
    cmd->add_option("--initial-state", o->initialState,
                    "Each file starts from: rest (the model's state under silence: no start-up burst, silence gives "
                    "the model's constant rest output; default) or zero (all state 0: a model settles, often audibly, "
                    "over its first milliseconds)")
        ->type_name("STATE");
    cmd->add_flag("--overwrite", o->overwrite, "Replace existing output files (inputs are never overwritten)");
    cmd->add_flag("--skip-existing", o->skipExisting,
                  "Leave existing outputs alone and render only the missing ones (resumes an interrupted batch)");
    cmd->add_flag("--progress", o->progress, "Show the progress bar even when stderr is not a terminal");
    cmd->add_flag("-q,--quiet", o->quiet, "Print only errors");
    cmd->footer("Files are written to '<output>.tmp-<pid>' and renamed when complete.\n"
                "Exit status: 0 done, 1 a file or model problem, 2 a command-line problem, 130 interrupted.");
    cmd->callback([o, device, devices, shard] {
        o->deviceGiven = device->count() > 0;
        o->devicesGiven = devices->count() > 0;
        o->shardGiven = shard->count() > 0;
        runRender(*o);
    });
}

} // namespace mfx::apps
