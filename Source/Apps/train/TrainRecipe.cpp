// The recipe kept for --resume (see TrainRecipe.h).
#include "TrainRecipe.h"

#include "TrainPreflight.h"

#include <common/Errors.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace mfx::apps::train {

namespace {

std::string num(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

// 64-bit FNV-1a over the bytes of float arrays.
struct Fingerprint {
    std::uint64_t h = 1469598103934665603ULL;
    void add(const std::vector<float>& v) {
        const auto* p = reinterpret_cast<const unsigned char*>(v.data());
        for (std::size_t i = 0; i < v.size() * sizeof(float); ++i) h = (h ^ p[i]) * 1099511628211ULL;
        const std::uint64_t n = v.size();
        for (int i = 0; i < 8; ++i) h = (h ^ ((n >> (8 * i)) & 0xff)) * 1099511628211ULL;
    }
    std::string hex() const {
        char b[32];
        std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
        return b;
    }
};

// How each entry is named to the user, and what gives it.
const std::map<std::string, std::string> kWhat = {
    {"model", "the model (--size and the number of knobs)"},
    {"batch", "--batch"},
    {"segment", "--segment"},
    {"warmup", "--warmup"},
    {"lr", "--lr"},
    {"seed", "--seed"},
    {"pre_emphasis", "--pre-emphasis"},
    {"stft_weight", "--stft-weight"},
    {"stft_sizes", "--stft-sizes"},
    {"latencies", "the latency removed (--latency, or detected)"},
    {"data", "the training data (the --input and --target recordings, their knob settings)"},
};

} // namespace

Recipe makeRecipe(const Config& c, const mfx::train::TrainOptions& o, const PreparedData& data) {
    Recipe r;
    r["model"] = c.summary();
    r["batch"] = std::to_string(o.batchSize);
    r["segment"] = std::to_string(o.segmentLength);
    r["warmup"] = std::to_string(o.warmup);
    r["lr"] = num(o.adam.lr);
    r["seed"] = std::to_string(o.seed);
    r["pre_emphasis"] = num(o.loss.preEmphasis);
    r["stft_weight"] = num(o.loss.stftWeight);
    std::string sizes;
    for (int n : o.loss.stftSizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(n);
    r["stft_sizes"] = sizes;
    std::string lat;
    for (long l : data.latencies) lat += (lat.empty() ? "" : ",") + std::to_string(l);
    r["latencies"] = lat;
    Fingerprint f;
    for (const auto* set : {&data.train, &data.val})
        for (const auto& rec : *set) {
            f.add(rec.input);
            f.add(rec.target);
            f.add(rec.cond);
        }
    r["data"] = f.hex();
    return r;
}

void checkResumeRecipe(const Recipe& stored, const Recipe& now, const std::string& checkpoint) {
    std::string diffs;
    for (const auto& [key, was] : stored) {
        const auto it = now.find(key);
        if (it == now.end() || it->second == was) continue;
        const auto what = kWhat.find(key);
        const std::string name = what != kWhat.end() ? what->second : key;
        if (key == "data")
            diffs += "\n  " + name + " differ from that run's";
        else
            diffs += "\n  " + name + ": " + was + " in that run, " + it->second + " now";
    }
    if (!diffs.empty())
        throw UsageError("--resume would continue the run in " + checkpoint + " with another recipe or other data:" + diffs +
                         "\nresume with that run's options and files, or start a new run with --overwrite (or another -o)");
}

std::string targetNames(const std::vector<TargetSpec>& specs) {
    std::string names;
    for (const auto& spec : specs)
        names += (names.empty() ? "" : ", ") + utf8Escaped(std::filesystem::path(spec.path).filename().string());
    return names;
}

std::string describeSchedule(const mfx::train::TrainOptions& o, int epochs, long stepsPerEpoch) {
    return std::to_string(epochs) + (epochs == 1 ? " epoch of " : " epochs of ") + std::to_string(stepsPerEpoch) + " steps, batch " +
           std::to_string(o.batchSize) + " x (" + std::to_string(o.segmentLength) + " + " + std::to_string(o.warmup) +
           " warm-up) samples, Adam lr " + num(o.adam.lr) + " (" + std::to_string(o.adam.warmupSteps) +
           " warm-up steps, cosine to " + num(o.adam.lrFinal) + "), gradient clipping at norm " + num(o.adam.clipNorm) + ", seed " + std::to_string(o.seed);
}

StepShape chooseStepShape(const GivenStepShape& given, const Recipe& resumed, const StepShape& defaults) {
    // the run's value of `key` if it is a whole number >= least, else -1
    auto fromRun = [&](const char* key, long least) -> long {
        const auto it = resumed.find(key);
        if (it == resumed.end()) return -1;
        char* end = nullptr;
        const long v = std::strtol(it->second.c_str(), &end, 10);
        return end != it->second.c_str() && *end == '\0' && v >= least ? v : -1;
    };
    const long runBatch = fromRun("batch", 1), runSegment = fromRun("segment", 1), runWarmup = fromRun("warmup", 0);
    StepShape s;
    s.fromRun = runBatch >= 0 && runSegment >= 0 && runWarmup >= 0;
    s.batch = given.batch ? *given.batch : s.fromRun ? static_cast<int>(runBatch) : defaults.batch;
    s.segment = given.segment ? *given.segment : s.fromRun ? static_cast<std::size_t>(runSegment) : defaults.segment;
    s.warmup = given.warmup ? *given.warmup : s.fromRun ? static_cast<std::size_t>(runWarmup) : defaults.warmup;
    return s;
}

} // namespace mfx::apps::train
