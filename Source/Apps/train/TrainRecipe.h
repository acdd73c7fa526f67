#pragma once
// What a training run was started with, kept in the run state (MODEL.ckpt.json) so that --resume can
// refuse a command that would continue it with another recipe or other data: a different learning
// rate, batch, segment, seed, loss or model size, or a different recording, alignment or knob
// setting, would silently make the resumed run something else (its schedule, its data, its numbers).
// --epochs (to train longer), --max-minutes, --threads, --device and --progress may change.
#include "TrainData.h"

#include <Model/Config.h>
#include <Train/Trainer.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace mfx::apps::train {

using Recipe = std::map<std::string, std::string>; // key -> value, both printable

// The recipe of this command: the model shape, the step shape and optimiser, the loss, the seed, the
// latencies removed and a fingerprint (64-bit FNV-1a) of the training and validation samples and
// their knob values.
Recipe makeRecipe(const Config& c, const mfx::train::TrainOptions& o, const PreparedData& data);

// Throws UsageError listing every entry of `stored` (the run's) that `now` differs in, with what to
// do. Entries missing on either side (a run state written before recipes were kept) are not compared.
void checkResumeRecipe(const Recipe& stored, const Recipe& now, const std::string& checkpoint);

// A training step's shape: batch segments of `segment` samples after `warmup` samples of warm-up.
struct StepShape {
    int batch = 0;
    std::size_t segment = 0, warmup = 0;
    bool fromRun = false; // chooseStepShape: the values not given came from the resumed run
};
// What the command line gave of a step's shape (each unset when not given; a warm-up of 0 is a value).
struct GivenStepShape {
    std::optional<int> batch;
    std::optional<std::size_t> segment, warmup;
};
// Each of batch, segment and warm-up as given, else the resumed run's when its recipe holds all three
// (a run moved between CPU and GPU keeps its steps), else `defaults`' (the device's).
StepShape chooseStepShape(const GivenStepShape& given, const Recipe& resumed, const StepShape& defaults);

// "rec.wav" or "g0.wav, g1.wav": the target files' names, for the metadata (bytes that are not
// UTF-8, e.g. of a Latin-1 name, as \xNN text).
std::string targetNames(const std::vector<TargetSpec>& specs);

// One line for the model's metadata ("train_schedule"): batch, segment, warm-up, lr schedule, seed.
std::string describeSchedule(const mfx::train::TrainOptions& o, int epochs, long stepsPerEpoch);

} // namespace mfx::apps::train
