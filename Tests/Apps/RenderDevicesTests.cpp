// Files spread over GPUs with `mambafx render --devices`: on this GPU-less machine the CPU fallback
// (message, exit 0, bitwise the CPU path), the usage errors, and the multi-worker batch runner itself,
// driven in-process with several CPU backends (every file once, bitwise, one sane progress line).
#include "AppTestUtil.h"
#include "RenderTree.h"

#include <common/RenderPlan.h>
#include <common/RenderRunner.h>
#include <common/RenderSelect.h>

#include <Backend/Backend.h>
#include <Engine/RestState.h>

#include <catch2/catch.hpp>

#include <sndfile.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "../Core/TestSignals.h"

using namespace mfx;
using mfx::test::bitwiseEqual;
using namespace mfx::apps;
using namespace mfx::apptest;
using Catch::Matchers::Contains;

namespace {

constexpr int kFloatWav = SF_FORMAT_WAV | SF_FORMAT_FLOAT;

// Redirects the process's stderr (fd 2) to a file while alive; text() restores it and reads the file.
class CaptureStderr {
public:
    explicit CaptureStderr(fs::path file) : file_(std::move(file)) {
        std::fflush(stderr);
        saved_ = dup(STDERR_FILENO);
        FILE* f = std::fopen(file_.c_str(), "w");
        dup2(fileno(f), STDERR_FILENO);
        std::fclose(f);
    }
    ~CaptureStderr() { restore(); }
    std::string text() {
        restore();
        std::ifstream f(file_);
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        dup2(saved_, STDERR_FILENO);
        close(saved_);
        saved_ = -1;
    }
    fs::path file_;
    int saved_ = -1;
};

} // namespace

TEST_CASE("render --devices without a GPU renders on the CPU with a message, bitwise as --device cpu", "[apps]") {
    if (cudaDeviceCount() > 0) { // GPU output is not bitwise the CPU's; Tests/Gpu covers the GPU
        WARN("a GPU is present: the CPU fallback of --devices is not tested here");
        return;
    }
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 65);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    fs::create_directories(dir / "in");
    const auto mono = noiseSignal(9000, 1), left = noiseSignal(7000, 2), right = noiseSignal(7000, 3);
    writeAudio(dir / "in" / "1-mono.wav", mono, 1, 48000, kFloatWav);
    writeAudio(dir / "in" / "2-stereo.wav", interleave({left, right}), 2, 48000, kFloatWav);
    writeAudio(dir / "in" / "3-mono.wav", left, 1, 48000, kFloatWav);
    writeAudio(dir / "in" / "4-44k.wav", sineMix(8000, 44100.0, 4), 1, 44100, kFloatWav);

    const auto cpu = runMambafx({"render", "--model", modelPath.string(), (dir / "in").string(), "--out-dir",
                                 (dir / "cpu").string(), "--device", "cpu"});
    REQUIRE(cpu.code == 0);
    for (const std::string list : {"0,1", "all"}) {
        const fs::path out = dir / ("gpus-" + list);
        const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "in").string(), "--out-dir",
                                   out.string(), "--devices", list});
        INFO(r.err);
        REQUIRE(r.code == 0);
        CHECK_THAT(r.err, Contains("--devices: no GPU to render on, rendering on the CPU instead"));
        CHECK_THAT(r.out, Contains("on cpu") && Contains("rendered 4 of 4 files"));
        for (const char* name : {"1-mono.wav", "2-stereo.wav", "3-mono.wav", "4-44k.wav"}) {
            INFO(name);
            CHECK(bitwiseEqual(readAudio(out / name).samples, readAudio(dir / "cpu" / name).samples));
        }
    }
    // Files of different channel counts in a row reuse one backend (reset, or prepare when the shape
    // changes): each equals the core engine alone.
    const auto stereo = readAudio(dir / "cpu" / "2-stereo.wav");
    CHECK(readAudio(dir / "cpu" / "1-mono.wav").samples == renderRealtime(model, mono));
    CHECK(stereo.channel(0) == renderRealtime(model, left));
    CHECK(stereo.channel(1) == renderRealtime(model, right));
    CHECK(readAudio(dir / "cpu" / "3-mono.wav").samples == renderRealtime(model, left));
}

TEST_CASE("render --devices with --device, or a malformed list, is a usage error", "[apps]") {
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 66), dir / "m.safetensors");
    writeAudio(dir / "in.wav", noiseSignal(500, 1), 1, 48000, kFloatWav);
    const std::vector<std::string> base = {"render", "--model", modelPath.string(), (dir / "in.wav").string(), "-o",
                                           (dir / "out.wav").string()};
    auto combined = base;
    combined.insert(combined.end(), {"--devices", "0,1", "--device", "cuda:1"});
    const auto r = runMambafx(combined);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("--devices") && Contains("--device cuda:1") && Contains("cannot be combined"));
    for (const char* bad : {"", "0,", ",1", "gpu0", "0,0", "-1", "all,0", "0;1"}) {
        auto args = base;
        args.insert(args.end(), {"--devices", bad});
        const auto e = runMambafx(args);
        INFO("--devices '" << bad << "': " << e.err);
        CHECK(e.code == 2);
    }
    CHECK_FALSE(fs::exists(dir / "out.wav"));

    CHECK(parseDeviceList("all").all);
    CHECK(parseDeviceList("3,1").indices == std::vector<int>{3, 1});
    CHECK(resolveDevices(parseDeviceList("all"), 2) == std::vector<int>{0, 1});
    CHECK_THROWS_WITH(resolveDevices(parseDeviceList("0,2"), 2), Contains("no GPU 2"));
}

TEST_CASE("a batch over several workers renders every file once, bitwise, with one sane progress line", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 67);
    const auto files = makeTree(dir / "in", 7);
    PlanRequest request;
    request.inputs = {(dir / "in").string()};
    request.outDir = dir / "out";
    const Plan plan = planRender(request);
    REQUIRE(plan.jobs.size() == 7);

    OfflineOptions one;
    one.numThreads = 1;
    std::vector<std::unique_ptr<RenderBackend>> owned;
    std::vector<RenderBackend*> workers;
    for (int w = 0; w < 3; ++w) {
        owned.push_back(makeCpuBackend(one));
        workers.push_back(owned.back().get());
    }
    BatchOptions options;
    options.progress = Progress::Mode::Always; // stderr is a file here: one plain line per 10 %
    std::ostringstream out;
    auto* coutBuf = std::cout.rdbuf(out.rdbuf());
    CaptureStderr err(dir / "stderr.txt");
    RenderSettings settings;
    settings.initialState = engineRestState(model); // as `mambafx render` does by default
    const BatchResult result = renderBatch(plan.jobs, model, workers, settings, options);
    const std::string progress = err.text();
    std::cout.rdbuf(coutBuf);

    CHECK(result.rendered == 7);
    CHECK(result.failed == 0);
    CHECK_FALSE(result.interrupted);
    for (const auto& f : files) {
        INFO(f);
        CHECK(readAudio(dir / "out" / f.lexically_relative(dir / "in")).samples ==
              renderRealtime(model, readAudio(f).samples));
        CHECK_THAT(out.str(), Contains(f.string() + " -> ") && Contains("[cpu]"));
    }
    // Progress: whole lines of the one aggregated bar, never going backwards, ending at 100 %.
    INFO(progress);
    std::istringstream lines(progress);
    std::string line;
    int last = -1, count = 0;
    while (std::getline(lines, line)) {
        REQUIRE(line.rfind("[", 0) == 0);
        CHECK_THAT(line, Contains("files on 3 devices"));
        const int percent = std::stoi(line.substr(line.find(']') + 1));
        CHECK(percent >= last);
        last = percent;
        ++count;
    }
    CHECK(count >= 2);
    CHECK(last == 100);
}
