#pragma once
// From `--input` and `--target` files to aligned training and validation recordings:
// reading (libsndfile), rate/length/level/clipping checks, latency detection (calibration blips of
// the standard capture signal, else cross-correlation) and the train/validation split.
#include <Train/Alignment.h>
#include <Train/Trainer.h>

#include <string>
#include <vector>

namespace mfx::apps::train {

// One --target argument: "file.wav" or "gain=0.5:file.wav" or "gain=0.5,tone=1:file.wav".
struct TargetSpec {
    std::string path;
    std::vector<std::pair<std::string, double>> knobs; // in the order given
};
TargetSpec parseTargetSpec(const std::string& arg); // throws UsageError

struct DataOptions {
    long latency = -1;          // -1: detect; else samples to remove
    long maxLatencyMs = 500;
    bool allowClipping = false;
    double validationFraction = 0.15; // for inputs that are not the standard capture signal
};

struct KnobRange {
    std::string name;
    double min = 0, max = 0, def = 0;
};

struct PreparedData {
    std::vector<mfx::train::Recording> train, val;
    std::vector<KnobRange> knobs; // (nCond)
    int sampleRate = 0;
    bool standardSignal = false;
    std::vector<long> latencies;       // per target
    std::vector<std::string> latencyNotes; // per target, one line each: "12 samples (0.25 ms), from the blips"
    std::vector<std::string> warnings;
    std::vector<std::string> notes;
    double inputPeakDb = 0, targetPeakDb = 0;
};

// Throws Failure (file problems, bad pairs) or UsageError (inconsistent knob names).
PreparedData prepareData(const std::string& inputPath, const std::vector<TargetSpec>& targets, const DataOptions& o);

// The "conditioning" metadata value: [{"name":..,"min":..,"max":..,"default":..}].
std::string conditioningJson(const std::vector<KnobRange>& knobs);

} // namespace mfx::apps::train
