// Files and folders: folder inputs mirrored under --out-dir, non-audio files skipped with a note,
// outputs written to a temporary name and renamed, nothing left behind by a failing or interrupted
// render (or by an input that changed since it was planned).
#include "AppTestUtil.h"

#include <common/RenderPipeline.h>
#include <common/RenderPlan.h>
#include <common/RenderRunner.h>

#include <Backend/Backend.h>

#include <catch2/catch.hpp>

#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

using namespace mfx;
using namespace mfx::apps;
using namespace mfx::apptest;
using Catch::Matchers::Contains;

namespace {

constexpr int kFloatWav = SF_FORMAT_WAV | SF_FORMAT_FLOAT;

} // namespace

TEST_CASE("folder input with --out-dir mirrors the tree and skips non-audio files", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 31);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    const fs::path in = dir / "takes";
    fs::create_directories(in / "guitar" / "day2");
    fs::create_directories(in / ".hidden");
    const auto a = noiseSignal(3000, 1), b = noiseSignal(5000, 2), c = noiseSignal(4000, 3);
    writeAudio(in / "a.wav", a, 1, 48000, kFloatWav);
    writeAudio(in / "guitar" / "b.flac", b, 1, 48000, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
    writeAudio(in / "guitar" / "day2" / "c.aiff", c, 1, 48000, SF_FORMAT_AIFF | SF_FORMAT_FLOAT);
    writeAudio(in / ".hidden" / "h.wav", a, 1, 48000, kFloatWav);
    std::ofstream(in / "guitar" / "notes.txt") << "levels: hot";

    const fs::path out = dir / "rendered";
    const auto r = runMambafx({"render", "--model", modelPath.string(), in.string(), "--out-dir", out.string()});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.err, Contains("skipping") && Contains("notes.txt"));
    CHECK_THAT(r.out, Contains("rendered 3 of 3 files"));

    CHECK(fs::exists(out / "a.wav"));
    CHECK(fs::exists(out / "guitar" / "b.flac"));
    CHECK(fs::exists(out / "guitar" / "day2" / "c.aiff"));
    CHECK_FALSE(fs::exists(out / ".hidden"));
    CHECK_FALSE(fs::exists(out / "guitar" / "notes.txt"));
    CHECK(readAudio(out / "guitar" / "b.flac").format == (SF_FORMAT_FLAC | SF_FORMAT_PCM_24));
    CHECK(readAudio(out / "a.wav").samples == renderRealtime(model, a));
    CHECK(readAudio(out / "guitar" / "day2" / "c.aiff").samples == renderRealtime(model, c));
    CHECK(tempFilesIn(dir.path()).empty());

    // A changed format renames the outputs; a second run into the same folder needs --overwrite.
    const auto flac = runMambafx({"render", "--model", modelPath.string(), in.string(), "--out-dir", out.string(),
                                  "--format", "flac", "--bit-depth", "24"});
    INFO(flac.err);
    REQUIRE(flac.code == 2); // guitar/b.flac exists already: the command must say --overwrite (usage)
    CHECK_THAT(flac.err, Contains("b.flac") && Contains("--overwrite"));
    CHECK_FALSE(fs::exists(out / "a.flac")); // nothing rendered when any conflict is found
    const auto flac2 = runMambafx({"render", "--model", modelPath.string(), in.string(), "--out-dir", out.string(),
                                   "--format", "flac", "--bit-depth", "24", "--overwrite"});
    REQUIRE(flac2.code == 0);
    CHECK(fs::exists(out / "a.flac"));
    CHECK(fs::exists(out / "guitar" / "day2" / "c.flac"));
}

TEST_CASE("an --out-dir that is or lies inside an input folder is refused", "[apps]") {
    // Found by review: `render d --out-dir d -f flac` wrote d/x.flac into the input tree, and the
    // rerun with --skip-existing took it for an input and failed. (Inside it, the out-dir was skipped
    // while listing, which silently skipped any inputs already there and raced with other shards.)
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 32), dir / "m.safetensors");
    fs::create_directories(dir / "in" / "sub");
    writeAudio(dir / "in" / "x.wav", noiseSignal(2000, 1), 2, 48000, kFloatWav);
    writeAudio(dir / "single.wav", noiseSignal(2000, 2), 1, 48000, kFloatWav);
    fs::create_directory_symlink(dir / "in", dir / "link");
    const std::string in = (dir / "in").string();
    for (const fs::path& outDir : {dir / "in", dir / "in" / "out", dir / "in" / "sub" / ".." / "out", dir / "link" / "o"}) {
        const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "single.wav").string(), in,
                                   "--out-dir", outDir.string(), "-f", "flac", "--skip-existing"});
        INFO(outDir << ": " << r.err);
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Contains("--out-dir '" + outDir.string() + "' is") && Contains("the input folder '" + in + "'") &&
                              Contains("choose an --out-dir outside"));
    }
    CHECK_FALSE(fs::exists(dir / "in" / "x.flac"));
    CHECK_FALSE(fs::exists(dir / "in" / "out"));
    CHECK_FALSE(fs::exists(dir / "in" / "o"));

    // A folder and a file together into an --out-dir outside them; a file input is not searched, so
    // an --out-dir next to it is fine.
    for (int run = 0; run < 2; ++run) {
        const auto r = runMambafx({"render", "--model", modelPath.string(), in, (dir / "single.wav").string(),
                                   "--out-dir", (dir / "out").string(), "--skip-existing"});
        INFO(r.err);
        REQUIRE(r.code == 0);
    }
    CHECK(fs::exists(dir / "out" / "x.wav"));
    CHECK(fs::exists(dir / "out" / "single.wav"));
    const auto file = runMambafx({"render", "--model", modelPath.string(), (dir / "in" / "x.wav").string(),
                                  "--out-dir", (dir / "in" / "out").string()});
    INFO(file.err);
    CHECK(file.code == 0);
    CHECK(fs::exists(dir / "in" / "out" / "x.wav"));
}

TEST_CASE("two inputs that would land on one output are refused up front", "[apps]") {
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 33), dir / "m.safetensors");
    fs::create_directories(dir / "a");
    fs::create_directories(dir / "b");
    writeAudio(dir / "a" / "take.wav", noiseSignal(1000, 1), 1, 48000, kFloatWav);
    writeAudio(dir / "b" / "take.wav", noiseSignal(1000, 2), 1, 48000, kFloatWav);
    const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "a" / "take.wav").string(),
                               (dir / "b" / "take.wav").string(), "--out-dir", (dir / "out").string()});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains("would both be written"));
    CHECK_FALSE(fs::exists(dir / "out" / "take.wav"));
}

TEST_CASE("a broken audio file inside a folder is an error, other files are not rendered", "[apps]") {
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 34), dir / "m.safetensors");
    fs::create_directories(dir / "in");
    writeAudio(dir / "in" / "good.wav", noiseSignal(1000, 1), 1, 48000, kFloatWav);
    std::ofstream(dir / "in" / "broken.flac") << "fLaC but then nothing sensible";
    const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "in").string(), "--out-dir", (dir / "out").string()});
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains("broken.flac"));
    CHECK_FALSE(fs::exists(dir / "out" / "good.wav"));
}

TEST_CASE("a link to nothing inside a folder is an error naming it, not a silently missing file", "[apps]") {
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 35), dir / "m.safetensors");
    fs::create_directories(dir / "in");
    writeAudio(dir / "in" / "good.wav", noiseSignal(1000, 1), 1, 48000, kFloatWav);
    fs::create_symlink(dir / "gone.wav", dir / "in" / "take2.wav");
    const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "in").string(), "--out-dir", (dir / "out").string()});
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains("take2.wav") && Contains("is a link to nothing"));
    CHECK_FALSE(fs::exists(dir / "out" / "good.wav"));
}

TEST_CASE("non-finite input samples are sanitised on the dry path too: no full-scale clicks", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 39);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    auto x = noiseSignal(3000, 4, 0.25f);
    x[100] = std::nanf("");
    x[200] = INFINITY;
    x[300] = -INFINITY;
    writeAudio(dir / "in.wav", x, 1, 48000, kFloatWav);
    const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "in.wav").string(), "-o",
                               (dir / "out.wav").string(), "--mix", "0.5", "--bit-depth", "16"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, !Contains("clipped"));
    const auto y = readAudio(dir / "out.wav").samples;
    REQUIRE(y.size() > 300);
    for (std::size_t t : {std::size_t(100), std::size_t(200), std::size_t(300)}) {
        INFO(t);
        CHECK(std::abs(y[t]) < 0.9f); // was -32768 / +32767: the dry NaN/inf written as full scale
    }
}

TEST_CASE("files the chosen --format cannot store are each named as errors, and nothing is rendered", "[apps]") {
    // Found by review: the first such file aborted the batch as a usage error (exit 2) naming no file.
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 37), dir / "m.safetensors");
    fs::create_directories(dir / "in");
    writeAudio(dir / "in" / "surround.wav", noiseSignal(6 * 500, 1), 6, 44100, kFloatWav); // MP3: 1 or 2 channels
    writeAudio(dir / "in" / "surround2.wav", noiseSignal(6 * 500, 2), 6, 48000, kFloatWav);
    writeAudio(dir / "in" / "mono.wav", noiseSignal(500, 3), 1, 44100, kFloatWav);
    const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "in").string(), "--out-dir",
                               (dir / "out").string(), "-f", "mp3"});
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains((dir / "in" / "surround.wav").string() + ": ") && Contains("6 channel(s) at 44100 Hz"));
    CHECK_THAT(r.err, Contains((dir / "in" / "surround2.wav").string() + ": ") && Contains("6 channel(s) at 48000 Hz"));
    CHECK_THAT(r.err, Contains("choose another --format") && Contains("nothing was rendered"));
    CHECK_FALSE(fs::exists(dir / "out"));

    // --bit-depth that no file could take is still the command line's problem (exit 2).
    const auto depth = runMambafx({"render", "--model", modelPath.string(), (dir / "in").string(), "--out-dir",
                                   (dir / "out").string(), "-f", "flac", "--bit-depth", "float"});
    CHECK(depth.code == 2);
    CHECK_THAT(depth.err, Contains("flac cannot store --bit-depth float"));
}

TEST_CASE("a WAV file cut short is rendered as far as it goes, with a note saying so", "[apps]") {
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 36), dir / "m.safetensors");
    writeAudio(dir / "whole.wav", noiseSignal(48000, 4), 1, 48000, kFloatWav);
    // whole.wav less its last `drop` samples, the header unchanged (a copy or a recording cut short)
    const auto writeCut = [&](const char* name, std::size_t drop) {
        std::ifstream f(dir / "whole.wav", std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
        bytes.resize(bytes.size() - drop * sizeof(float));
        std::ofstream(dir / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    };
    writeCut("cut.wav", 36000); // the first 0.25 s of samples only
    const auto cut = runMambafx({"render", "--model", modelPath.string(), (dir / "cut.wav").string(), "-o", (dir / "cut-out.wav").string()});
    INFO(cut.err);
    CHECK(cut.code == 0);
    CHECK_THAT(cut.err, Contains("cut.wav: the file is cut short: its header promises 1.00 s, 0.25 s are there"));
    CHECK(readAudio(dir / "cut-out.wav").frames() == 12000);
    writeCut("empty.wav", 48000); // the header alone
    const auto empty = runMambafx({"render", "--model", modelPath.string(), (dir / "empty.wav").string(), "-o", (dir / "empty-out.wav").string()});
    INFO(empty.err);
    CHECK(empty.code == 0);
    CHECK_THAT(empty.err, Contains("empty.wav: the file is cut short: its header promises 1.00 s, 0.00 s are there"));
    const auto whole = runMambafx({"render", "--model", modelPath.string(), (dir / "whole.wav").string(), "-o", (dir / "out.wav").string()});
    CHECK(whole.code == 0);
    CHECK_THAT(whole.err, !Contains("cut short"));
}

TEST_CASE("a failing render leaves neither output nor temporary file", "[apps]") {
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 35);
    const auto modelPath = saveTestModel(model, dir / "m.safetensors");
    // 44.1 kHz cannot be written as Opus (8/12/16/24/48 kHz only). The planner refuses it before any
    // audio is rendered (a batch used to render the other files first, then fail on this one) ...
    writeAudio(dir / "in.wav", noiseSignal(3000, 1), 1, 44100, kFloatWav);
    const auto r = runMambafx({"render", "--model", modelPath.string(), (dir / "in.wav").string(), "-o",
                               (dir / "out.opus").string()});
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Contains("in.wav: Opus stores audio at 8, 12, 16, 24 or 48 kHz only, not 44100 Hz") &&
                          Contains("choose another --format") && Contains("nothing was rendered"));
    CHECK_FALSE(fs::exists(dir / "out.opus"));
    CHECK(tempFilesIn(dir.path()).empty());
    // ... and a writer that fails at the start anyway (the same job forced past the planner) leaves
    // nothing behind either.
    RenderJob job;
    job.input = dir / "in.wav";
    job.output = dir / "forced.opus";
    job.info = AudioReader(job.input).info();
    job.outputFormat = SF_FORMAT_OGG | SF_FORMAT_OPUS;
    OfflineOptions one;
    one.numThreads = 1;
    const auto backend = makeCpuBackend(one);
    CHECK_THROWS_WITH(renderFile(job, model, *backend, RenderSettings{}), Contains("forced.opus"));
    CHECK_FALSE(fs::exists(dir / "forced.opus"));
    CHECK(tempFilesIn(dir.path()).empty());
}

TEST_CASE("a file changed since the batch was planned fails alone, leaving no output", "[apps]") {
    // Found by review: renderFile reopened the input without comparing it with the plan; a file
    // turned from stereo to mono during a long batch was streamed through stereo buffers.
    TempDir dir;
    const Model model = makeModel(smallConfig(48000.0), 38);
    fs::create_directories(dir / "in");
    writeAudio(dir / "in" / "a.wav", noiseSignal(2 * 1000, 1), 2, 48000, kFloatWav);
    writeAudio(dir / "in" / "b.wav", noiseSignal(1000, 2), 1, 48000, kFloatWav);
    PlanRequest request;
    request.inputs = {(dir / "in").string()};
    request.outDir = dir / "out";
    const Plan plan = planRender(request);
    REQUIRE(plan.jobs.size() == 2);
    REQUIRE(plan.jobs[0].input.filename() == "a.wav");
    writeAudio(dir / "in" / "a.wav", noiseSignal(1000, 3), 1, 48000, kFloatWav); // same length, now mono

    OfflineOptions one;
    one.numThreads = 1;
    const auto backend = makeCpuBackend(one);
    CHECK_THROWS_WITH(renderFile(plan.jobs[0], model, *backend, RenderSettings{}),
                      Contains("a.wav' changed since the batch was planned") &&
                          Contains("2 channel(s) at 48000 Hz, 1000 frames then, 1 channel(s)") && Contains("run again"));
    CHECK_FALSE(fs::exists(dir / "out" / "a.wav"));

    // In a batch it is that file's failure; the others are rendered.
    std::ostringstream out, err;
    auto* coutBuf = std::cout.rdbuf(out.rdbuf());
    auto* cerrBuf = std::cerr.rdbuf(err.rdbuf());
    BatchOptions quiet;
    quiet.progress = Progress::Mode::Never;
    const BatchResult result = renderBatch(plan.jobs, model, {backend.get()}, RenderSettings{}, quiet);
    std::cout.rdbuf(coutBuf);
    std::cerr.rdbuf(cerrBuf);
    INFO(err.str());
    CHECK(result.failed == 1);
    CHECK(result.rendered == 1);
    CHECK_THAT(err.str(), Contains("a.wav' changed since the batch was planned"));
    CHECK_FALSE(fs::exists(dir / "out" / "a.wav"));
    CHECK(readAudio(dir / "out" / "b.wav").samples == renderRealtime(model, noiseSignal(1000, 2), 512, {}, false)); // RenderSettings{}: zero state
    CHECK(tempFilesIn(dir.path()).empty());

    // A changed sample rate or length is caught the same way.
    writeAudio(dir / "in" / "b.wav", noiseSignal(1000, 2), 1, 44100, kFloatWav);
    CHECK_THROWS_WITH(renderFile(plan.jobs[1], model, *backend, RenderSettings{}), Contains("44100 Hz, 1000 frames now"));
    writeAudio(dir / "in" / "b.wav", noiseSignal(1001, 2), 1, 48000, kFloatWav);
    CHECK_THROWS_WITH(renderFile(plan.jobs[1], model, *backend, RenderSettings{}), Contains("1001 frames now"));
    CHECK(tempFilesIn(dir.path()).empty());
}

TEST_CASE("Ctrl-C or a closed terminal (SIGHUP) stops a render, removes the temporary file and leaves no output", "[apps]") {
    TempDir dir;
    Config config = smallConfig(48000.0);
    config.dModel = 32;
    config.nLayers = 4;
    config.dState = 16;
    const auto modelPath = saveTestModel(makeModel(config, 36), dir / "m.safetensors");
    const std::size_t frames = 48000 * 120; // two minutes: far longer than the test waits
    writeAudio(dir / "long.wav", noiseSignal(frames, 1), 1, 48000, kFloatWav);

    for (const int signal : {SIGINT, SIGHUP}) {
        INFO("signal " << signal);
        const fs::path out = dir / "out.wav";
        const pid_t pid = spawnMambafx({"render", "--model", modelPath.string(), (dir / "long.wav").string(), "-o",
                                        out.string(), "--threads", "1"},
                                       dir / "stdout", dir / "stderr");
        const fs::path temp = out.string() + ".tmp-" + std::to_string(pid);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!fs::exists(temp) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        REQUIRE(fs::exists(temp)); // the render writes to <out>.tmp-<pid> while working
        CHECK_FALSE(fs::exists(out));
        kill(pid, signal);
        const int code = waitExit(pid);
        std::ifstream errFile(dir / "stderr");
        const std::string err((std::istreambuf_iterator<char>(errFile)), std::istreambuf_iterator<char>());
        INFO(err);
        CHECK(code == 130);
        CHECK_THAT(err, Contains("interrupted"));
        CHECK_FALSE(fs::exists(temp));
        CHECK_FALSE(fs::exists(out));
    }
}
