#pragma once
// Helpers of the `mambafx train` app tests (TrainAppTests.cpp, TrainAlignmentAppTests.cpp, TrainResumeTests.cpp): temporary
// folders, WAV files, a synthetic device (tanh drive into a one-pole low-pass, delayed), and the
// train command run in-process with its stderr captured.
#include <common/AudioFile.h>
#include <common/CommandLine.h>
#include <common/Errors.h>
#include <train/TrainCheckpointFiles.h>
#include <train/TrainCommands.h>
#include <train/TrainData.h>
#include <train/TrainPreflight.h>

#include <Model/ModelError.h>
#include <Model/ModelFile.h>
#include <Model/RandomModel.h>
#include <Train/Trainer.h>
#include <Train/CaptureSignal.h>

#include <sndfile.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>
#include <tuple>
#include <vector>
#include <nlohmann/json.hpp>

#include <unistd.h>

namespace mfx::trainapptest {
namespace fs = std::filesystem;
using namespace mfx;

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("mfx-train-test-" + std::to_string(::getpid()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void writeWav(const std::string& path, const std::vector<float>& x, int rate = 48000) {
    apps::writeAudioFile(path, x, 1, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
}

// The test "device": tanh drive into a one-pole low-pass, then `delay` samples of latency.
inline std::vector<float> device(const std::vector<float>& x, double drive, std::size_t delay) {
    std::vector<float> y(x.size() + delay, 0.0f);
    double s = 0;
    for (std::size_t t = 0; t < x.size(); ++t) {
        s = 0.6 * s + 0.4 * 0.5 * std::tanh(drive * x[t]);
        y[t + delay] = static_cast<float>(s);
    }
    return y;
}

inline std::vector<float> noise(std::size_t n, float level, unsigned seed) {
    std::vector<float> x(n);
    unsigned s = seed;
    for (auto& v : x) {
        s = s * 1664525u + 1013904223u;
        v = level * (static_cast<float>(s >> 8) / 8388608.0f - 1.0f);
    }
    return x;
}

inline std::string prepareError(const std::string& input, const std::vector<std::string>& targets) {
    std::vector<apps::train::TargetSpec> specs;
    for (const auto& t : targets) specs.push_back(apps::train::parseTargetSpec(t));
    try {
        apps::train::prepareData(input, specs, {});
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

// Collects what std::cerr receives while it lives (the commands print their errors and notes there).
struct CerrCapture {
    std::ostringstream text;
    std::streambuf* saved;
    CerrCapture() : saved(std::cerr.rdbuf(text.rdbuf())) {}
    ~CerrCapture() { std::cerr.rdbuf(saved); }
};

struct AppResult {
    int code = -1;
    std::string err; // stderr
};

// `mambafx train` in-process on a short, small run: 1 epoch (unless `extra` gives --epochs) of the nano size.
inline AppResult runTrain(const std::string& input, const std::string& target, const std::string& out, const std::vector<std::string>& extra = {}) {
    auto app = apps::makeMainApp();
    apps::addTrainCommand(*app);
    std::vector<std::string> args = {"mambafx", "train", "--input", input, "--target", target, "-o", out};
    // the small run's options, unless `extra` gives them
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"--size", "nano"}, {"--segment", "2048"}, {"--warmup", "512"}, {"--batch", "4"}, {"--threads", "2"},
        {"--device", "cpu"}, {"--progress", "never"}, {"--epochs", "1"}};
    for (const auto& [option, value] : defaults)
        if (std::find(extra.begin(), extra.end(), option) == extra.end()) args.insert(args.end(), {option, value});
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<const char*> argv;
    for (const auto& s : args) argv.push_back(s.c_str());
    AppResult r;
    CerrCapture cap;
    r.code = apps::runApp(*app, static_cast<int>(argv.size()), argv.data());
    r.err = cap.text.str();
    return r;
}

// Files in `dir` whose names hold ".tmp" (the temporary names of half-written outputs).
inline std::vector<std::string> tempFiles(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.path().filename().string().find(".tmp") != std::string::npos) found.push_back(e.path().string());
    return found;
}

inline void writeText(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

} // namespace mfx::trainapptest
