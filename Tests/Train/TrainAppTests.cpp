// `mambafx train` / `capture-signal` on files: every bad input gives its own clear message, and a
// short conditioned training run writes a model with the documented metadata and resumes from its
// checkpoint. (Latency and drift of recorded capture signals: TrainAlignmentAppTests.cpp.)
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

using namespace mfx;
namespace fs = std::filesystem;

#include "TrainAppSupport.h"

using namespace mfx::trainapptest;

TEST_CASE("train: bad inputs each give their own clear message", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 8, 0.3f, 1);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("good.wav"), device(in, 4.0, 0));
    SECTION("missing file") {
        CHECK_THAT(prepareError(dir.file("nope.wav"), {dir.file("good.wav")}), Catch::Contains("cannot read") && Catch::Contains("nope.wav"));
        CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("missing-target.wav")}), Catch::Contains("cannot read") && Catch::Contains("missing-target.wav"));
    }
    SECTION("mismatched sample rates") {
        writeWav(dir.file("rate.wav"), device(in, 4.0, 0), 44100);
        CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("rate.wav")}), Catch::Contains("sample rates differ") && Catch::Contains("44100"));
    }
    SECTION("mismatched lengths") {
        auto y = device(in, 4.0, 0);
        y.resize(y.size() / 2);
        writeWav(dir.file("short.wav"), y);
        CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("short.wav")}), Catch::Contains("lengths differ") && Catch::Contains("stopped early"));
    }
    SECTION("silent target") {
        writeWav(dir.file("silent.wav"), std::vector<float>(in.size(), 0.0f));
        CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("silent.wav")}), Catch::Contains("target is silent"));
    }
    SECTION("silent input") {
        // named as the input, before the latency search (which would blame the target)
        writeWav(dir.file("silent-in.wav"), std::vector<float>(in.size(), 0.0f));
        writeWav(dir.file("t.wav"), device(in, 4.0, 0));
        const std::string err = prepareError(dir.file("silent-in.wav"), {dir.file("t.wav")});
        CHECK_THAT(err, Catch::Contains("silent-in.wav: the input is silent") && Catch::Contains("capture-signal"));
        CHECK_THAT(err, !Catch::Contains("latency"));
    }
    SECTION("silent validation part") {
        // The last 4 s are kept for validation: silent there, the validation ESR (divided by its energy) was 0.
        auto y = device(in, 4.0, 0);
        std::fill(y.begin() + 48000 * 4, y.end(), 0.0f);
        writeWav(dir.file("dropout.wav"), y);
        CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("dropout.wav")}),
                   Catch::Contains("validation part of the target") && Catch::Contains("is silent") && Catch::Contains("record again"));
    }
    SECTION("clipped target") {
        auto y = device(in, 4.0, 0);
        for (auto& v : y) v = std::clamp(v * 4.0f, -1.0f, 1.0f);
        writeWav(dir.file("clipped.wav"), y);
        CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("clipped.wav")}), Catch::Contains("target is clipped") && Catch::Contains("lower the recording level"));
        // a clipped input too: named in the same message, the likely cause
        auto hot = in;
        for (auto& v : hot) v = std::clamp(v * 4.0f, -1.0f, 1.0f);
        writeWav(dir.file("hot.wav"), hot);
        CHECK_THAT(prepareError(dir.file("hot.wav"), {dir.file("clipped.wav")}), Catch::Contains("also: ") && Catch::Contains("the input has"));
    }
    SECTION("knob settings") {
        CHECK_THROWS_AS(apps::train::parseTargetSpec("gain=x:a.wav"), apps::UsageError);
        CHECK_THAT(prepareError(dir.file("in.wav"), {"gain=0:" + dir.file("good.wav"), "tone=1:" + dir.file("good.wav")}),
                   Catch::Contains("same knobs"));
        CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("good.wav"), dir.file("good.wav")}), Catch::Contains("knob settings"));
    }
    SECTION("a good pair passes") { CHECK(prepareError(dir.file("in.wav"), {dir.file("good.wav")}).empty()); }
}

TEST_CASE("train: a short conditioned run writes the model with its metadata and resumes", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.4f, 3);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("g0.wav"), device(in, 1.0, 0));
    writeWav(dir.file("g1.wav"), device(in, 6.0, 0));
    const std::string out = dir.file("amp.safetensors");
    auto run = [&](std::vector<std::string> extra, const std::string& epochs = "2") {
        auto app = apps::makeMainApp();
        apps::addTrainCommand(*app);
        std::vector<std::string> args = {"mambafx", "train", "--input", dir.file("in.wav"), "--target", "gain=0:" + dir.file("g0.wav"),
                                         "--target", "gain=1:" + dir.file("g1.wav"), "-o", out, "--size", "nano", "--epochs", epochs,
                                         "--segment", "2048", "--warmup", "512", "--batch", "4", "--threads", "2", "--name", "Test amp",
                                         "--author", "CI", "--progress", "never"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<const char*> argv;
        for (const auto& s : args) argv.push_back(s.c_str());
        return apps::runApp(*app, static_cast<int>(argv.size()), argv.data());
    };
    REQUIRE(run({"--device", "cpu"}) == 0);
    const Model m = loadModel(out);
    CHECK(m.metadata.at("train_loss") == "plain ESR");
    CHECK_THAT(m.metadata.at("train_hardware"), Catch::StartsWith("cpu (2 threads)"));
    CHECK(m.config.nCond == 1);
    CHECK(m.metadata.at("name") == "Test amp");
    CHECK(m.metadata.at("author") == "CI");
    CHECK(std::stod(m.metadata.at("validation_esr")) < 1.0);
    CHECK(std::stod(m.metadata.at("validation_esr_rest")) < 1.0); // the same from the rest state (conditioned: at each take's knob)
    const auto cond = nlohmann::json::parse(m.metadata.at("conditioning"));
    REQUIRE(cond.size() == 1);
    CHECK(cond[0]["name"] == "gain");
    CHECK(cond[0]["min"] == 0.0);
    CHECK(cond[0]["max"] == 1.0);
    CHECK(fs::exists(out + ".ckpt"));
    // An existing output needs --overwrite or --resume; --resume with more epochs continues.
    CHECK(run({}) == apps::kExitUsage);
    CHECK(run({"--resume"}, "3") == 0);
    // The checkpoint now holds epoch 3's step count (the model file changes only when validation improves).
    std::ifstream f(out + ".ckpt", std::ios::binary);
    std::vector<char> b((std::istreambuf_iterator<char>(f)), {});
    std::uint64_t cfgLen = 0;
    std::int64_t step = 0;
    std::memcpy(&cfgLen, b.data() + 8, 8);
    std::memcpy(&step, b.data() + 16 + cfgLen, 8);
    // 2 recordings x (6 s - 3 s kept for validation) = 288000 samples / (4 x 2048) per step = 35 steps per epoch.
    CHECK(step == 3 * 35);
    // The run state records the schedule the first 70 steps followed; a model written after them says so
    {
        std::ifstream js(out + ".ckpt.json");
        const auto state = nlohmann::json::parse(js);
        CHECK(state.at("schedule_steps") == 3 * 35);
        CHECK(state.at("schedule_history") == "steps 1-70 of a 70-step schedule; ");
        const Model resumedModel = loadModel(out);
        if (std::stol(resumedModel.metadata.at("train_steps")) > 70)
            CHECK_THAT(resumedModel.metadata.at("train_schedule"),
                       Catch::StartsWith("3 epochs of 35 steps") &&
                           Catch::EndsWith("(resumed with another --epochs: steps 1-70 of a 70-step schedule, then this one)"));
        else
            CHECK_THAT(resumedModel.metadata.at("train_schedule"), Catch::StartsWith("2 epochs of 35 steps"));
    }
    // A second change: each range once, in order
    CHECK(run({"--resume"}, "4") == 0);
    {
        std::ifstream js(out + ".ckpt.json");
        const auto state = nlohmann::json::parse(js);
        CHECK(state.at("schedule_steps") == 4 * 35);
        CHECK(state.at("schedule_from") == 3 * 35);
        CHECK(state.at("schedule_history") == "steps 1-70 of a 70-step schedule; steps 71-105 of a 105-step schedule; ");
    }
    // The STFT term: trains, and the metadata says so.
    const std::string out2 = dir.file("amp-stft.safetensors");
    auto app = apps::makeMainApp();
    apps::addTrainCommand(*app);
    const std::vector<std::string> args2 = {"mambafx", "train", "--input", dir.file("in.wav"), "--target", dir.file("g1.wav"), "-o", out2,
                                            "--size", "nano", "--epochs", "1", "--segment", "2048", "--warmup", "512", "--batch", "4",
                                            "--threads", "2", "--progress", "never", "--stft-weight", "0.1", "--stft-sizes", "256,1024"};
    std::vector<const char*> argv2;
    for (const auto& a : args2) argv2.push_back(a.c_str());
    REQUIRE(apps::runApp(*app, static_cast<int>(argv2.size()), argv2.data()) == 0);
    CHECK(loadModel(out2).metadata.at("train_loss") == "plain ESR + 0.100 x multi-resolution STFT (FFT sizes 256, 1024)");
    // Impossible options are usage errors.
    CHECK(run({"--overwrite", "--stft-sizes", "100"}) == apps::kExitUsage);
    CHECK(run({"--overwrite", "--stft-weight", "-1"}) == apps::kExitUsage);
    CHECK(run({"--overwrite", "--device", "tpu"}) == apps::kExitUsage);
}

TEST_CASE("train: a NaN or infinite sample in the input or target is refused, naming the file and the sample", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 5);
    writeWav(dir.file("in.wav"), in);
    // In the validation part (the last 3 s here): it used to give "val ESR 0.00000" and keep that model.
    auto y = device(in, 4.0, 0);
    y[264000] = std::numeric_limits<float>::quiet_NaN();
    writeWav(dir.file("nan.wav"), y);
    CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("nan.wav")}),
               Catch::Contains("the target file " + dir.file("nan.wav")) && Catch::Contains("NaN") &&
                   Catch::Contains("sample 264000 (5.500 s)") && Catch::Contains("export"));
    // An infinity used to pass as "the target is silent (peak -inf dBFS)".
    y = device(in, 4.0, 0);
    y[1000] = std::numeric_limits<float>::infinity();
    writeWav(dir.file("inf.wav"), y);
    CHECK_THAT(prepareError(dir.file("in.wav"), {dir.file("inf.wav")}),
               Catch::Contains("inf.wav") && Catch::Contains("infinite") && Catch::Contains("sample 1000 (0.021 s)"));
    auto x = in;
    x[48000] = -std::numeric_limits<float>::infinity();
    writeWav(dir.file("in-inf.wav"), x);
    writeWav(dir.file("good.wav"), device(in, 4.0, 0));
    CHECK_THAT(prepareError(dir.file("in-inf.wav"), {dir.file("good.wav")}),
               Catch::Contains("the input file " + dir.file("in-inf.wav")) && Catch::Contains("sample 48000 (1.000 s)"));
    // Through the command: exit 1, no model.
    const auto r = runTrain(dir.file("in.wav"), dir.file("nan.wav"), dir.file("m.safetensors"));
    CHECK(r.code == apps::kExitFailure);
    CHECK_THAT(r.err, Catch::Contains("NaN"));
    CHECK_FALSE(fs::exists(dir.file("m.safetensors")));
}

TEST_CASE("train: a validation ESR that is not a number is never taken for a real one", "[train]") {
    Config c;
    c.dModel = 8; c.nLayers = 1; c.dState = 8; c.dConv = 4; c.expand = 2; c.dtRank = 1;
    const Model m = randomModel(c, 1);
    const auto x = noise(4096, 0.3f, 7);
    mfx::train::Recording silent{x, std::vector<float>(x.size(), 0.0f), {}, "silent"};
    CHECK(std::isnan(mfx::train::validationEsr(m, {silent}, 1))); // was 0: a perfect score
    mfx::train::Recording bad{x, x, {}, "nan"};
    bad.target[100] = std::numeric_limits<float>::quiet_NaN();
    CHECK(std::isnan(mfx::train::validationEsr(m, {bad}, 1)));
    mfx::train::Recording good{x, x, {}, "good"};
    const double e = mfx::train::validationEsr(m, {good}, 1);
    CHECK(std::isfinite(e));
    CHECK(e >= 0);
}

TEST_CASE("train: a run whose model diverges stops with an error instead of reporting success", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 9);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("t.wav"), device(in, 4.0, 0));
    // A learning rate this large drives the weights to infinity within the first steps.
    const auto r = runTrain(dir.file("in.wav"), dir.file("t.wav"), dir.file("m.safetensors"), {"--lr", "1e30"});
    CHECK(r.code == apps::kExitFailure);
    CHECK_THAT(r.err, Catch::Contains("training diverged") && Catch::Contains("lower --lr"));
    CHECK_FALSE(fs::exists(dir.file("m.safetensors")));
    CHECK_THAT(r.err, !Catch::Contains("model written to"));
    // a learning rate that is no number at all is refused up front
    for (const char* lr : {"0", "-1e-3", "nan"}) {
        INFO("--lr " << lr);
        const auto bad = runTrain(dir.file("in.wav"), dir.file("t.wav"), dir.file("m.safetensors"), {"--lr", lr});
        CHECK(bad.code == apps::kExitUsage);
        CHECK_THAT(bad.err, Catch::Contains("--lr must be a positive number"));
    }
}

TEST_CASE("train: a bad output folder or metadata text is refused before any training", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 15);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("t.wav"), device(in, 4.0, 0));
    const auto target = dir.file("t.wav");
    // These used to fail in the model writer after a whole epoch, with no checkpoint written.
    SECTION("a folder that does not exist") {
        const auto r = runTrain(dir.file("in.wav"), target, dir.file("nodir/m.safetensors"));
        CHECK(r.code == apps::kExitFailure);
        CHECK_THAT(r.err, Catch::Contains("the folder " + dir.file("nodir") + " does not exist") && Catch::Contains("mkdir -p"));
        CHECK_THAT(r.err, !Catch::Contains("training "));
    }
    SECTION("a file where the folder should be") {
        writeText(dir.file("plain"), "x");
        const auto r = runTrain(dir.file("in.wav"), target, dir.file("plain/m.safetensors"));
        CHECK(r.code == apps::kExitFailure);
        CHECK_THAT(r.err, Catch::Contains(dir.file("plain") + " is not a folder"));
    }
    SECTION("a folder where the model or checkpoint goes") {
        fs::create_directories(dir.file("m.safetensors"));
        CHECK_THAT(runTrain(dir.file("in.wav"), target, dir.file("m.safetensors"), {"--overwrite"}).err,
                   Catch::Contains(dir.file("m.safetensors") + " is a folder"));
        fs::create_directories(dir.file("n.safetensors.ckpt"));
        CHECK_THAT(runTrain(dir.file("in.wav"), target, dir.file("n.safetensors"), {"--overwrite"}).err,
                   Catch::Contains(dir.file("n.safetensors.ckpt") + " is a folder"));
    }
    SECTION("option values that cannot work are usage errors naming the option") {
        for (const auto& [option, value, says] : std::vector<std::tuple<std::string, std::string, std::string>>{
                 {"--pre-emphasis", "nan", "--pre-emphasis: nan is outside"},
                 {"--pre-emphasis", "5", "--pre-emphasis: 5 is outside"},
                 {"--stft-weight", "nan", "--stft-weight"},
                 {"--max-minutes", "-1", "--max-minutes"},
                 {"--threads", "-3", "--threads"},
                 {"--latency", "-5", "--latency"},
                 {"--latency", "100000000", "--latency 100000000 samples is more than half of"}}) {
            INFO(option << " " << value);
            const auto r = runTrain(dir.file("in.wav"), target, dir.file("m.safetensors"), {option, value});
            CHECK(r.code == apps::kExitUsage);
            CHECK_THAT(r.err, Catch::Contains(says));
            CHECK_THAT(r.err, !Catch::Contains("training "));
        }
        const auto both = runTrain(dir.file("in.wav"), target, dir.file("m.safetensors"), {"--resume", "--overwrite"});
        CHECK(both.code == apps::kExitUsage);
        CHECK_THAT(both.err, Catch::Contains("--resume and --overwrite contradict"));
        fs::create_directories(dir.file("f.safetensors"));
        const auto folder = runTrain(dir.file("in.wav"), target, dir.file("f.safetensors"));
        CHECK(folder.code == apps::kExitUsage);
        CHECK_THAT(folder.err, Catch::Contains("is a folder; -o names the model file"));
    }
    SECTION("--name that is not UTF-8") {
        const auto r = runTrain(dir.file("in.wav"), target, dir.file("m.safetensors"), {"--name", "bad\xff"});
        CHECK(r.code == apps::kExitUsage);
        CHECK_THAT(r.err, Catch::Contains("--name is not valid UTF-8") && Catch::Contains("'bad\\xFF'") && Catch::Contains("offset 3"));
        CHECK_THAT(r.err, !Catch::Contains("training "));
        CHECK_FALSE(fs::exists(dir.file("m.safetensors.ckpt")));
    }
    SECTION("a target file name that is not UTF-8 goes into the description and train_targets escaped") {
        std::filesystem::copy_file(target, dir.file("caf\xe9.wav")); // Latin-1
        const auto r = runTrain(dir.file("in.wav"), dir.file("caf\xe9.wav"), dir.file("m.safetensors"));
        INFO(r.err);
        REQUIRE(r.code == 0);
        const Model m = loadModel(dir.file("m.safetensors"));
        CHECK(m.metadata.at(meta::description) == "Captured with mambafx train from caf\\xE9.wav");
        CHECK(m.metadata.at("train_targets") == "caf\\xE9.wav");
    }
    SECTION("a knob name that is not UTF-8") {
        const auto r = runTrain(dir.file("in.wav"), "g\xc3in=1:" + target, dir.file("m.safetensors"));
        CHECK(r.code == apps::kExitUsage);
        CHECK_THAT(r.err, Catch::Contains("knob name") && Catch::Contains("g\\xC3in"));
    }
    CHECK(tempFiles(dir.path).empty());
}

TEST_CASE("train: the UTF-8 check accepts exactly what the model writer accepts", "[train]") {
    Config c;
    c.dModel = 8; c.nLayers = 1; c.dState = 8; c.dConv = 4; c.expand = 2; c.dtRank = 1;
    Model m = randomModel(c, 1);
    const std::vector<std::string> texts = {"plain", "Café", "\xe2\x82\xac", "\xf0\x9f\x8e\xb8 amp", std::string("nul\0inside", 10),
                                            "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
                                            "bad\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3",
                                            "\xe2\x82", "\x80", "\xf8\x88\x80\x80\x80"};
    for (const auto& t : texts) {
        INFO(t);
        m.metadata["name"] = t;
        bool writerAccepts = true;
        try {
            serializeModel(m);
        } catch (const ModelError&) {
            writerAccepts = false;
        }
        CHECK((apps::train::invalidUtf8At(t) == std::string_view::npos) == writerAccepts);
    }
    CHECK(apps::train::invalidUtf8At("ab\xe2\x82") == 2);
}
