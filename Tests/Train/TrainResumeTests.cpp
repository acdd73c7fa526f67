// `mambafx train --resume` and the end of a run: a resumed command must have the run's recipe and
// data (TrainRecipe.h), a run that has done its epochs trains nothing, --max-minutes stops with a
// checkpoint only while steps remain, and a model that learned nothing is called out; the
// checkpoint and run-state files are never replaced unasked nor half-written.
#include "TrainAppSupport.h"

#include <train/TrainRecipe.h>

using namespace mfx;
using namespace mfx::trainapptest;

TEST_CASE("train --resume refuses another recipe or other data, naming what differs", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 21);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("t.wav"), device(in, 4.0, 0));
    writeWav(dir.file("other.wav"), device(in, 2.0, 0));
    const std::string out = dir.file("m.safetensors");
    REQUIRE(runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--lr", "0.004"}).code == 0);
    auto bytes = [](const std::string& p) {
        std::ifstream f(p, std::ios::binary);
        return std::vector<char>((std::istreambuf_iterator<char>(f)), {});
    };
    const auto model = bytes(out), ckpt = bytes(out + ".ckpt");

    const auto lr = runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--resume", "--epochs", "2", "--lr", "0.04"});
    CHECK(lr.code == apps::kExitUsage);
    CHECK_THAT(lr.err, Catch::Contains("--lr: 0.004 in that run, 0.04 now") && Catch::Contains("--overwrite"));
    const auto data = runTrain(dir.file("in.wav"), dir.file("other.wav"), out, {"--resume", "--epochs", "2", "--lr", "0.004"});
    CHECK(data.code == apps::kExitUsage);
    CHECK_THAT(data.err, Catch::Contains("the training data"));
    const auto size = runTrain(dir.file("in.wav"), dir.file("t.wav"), out,
                               {"--resume", "--epochs", "2", "--lr", "0.004", "--size", "lite", "--batch", "2"});
    CHECK(size.code == apps::kExitUsage);
    CHECK_THAT(size.err, Catch::Contains("the model (--size") && Catch::Contains("--batch: 4 in that run, 2 now"));
    CHECK(bytes(out) == model); // nothing was touched
    CHECK(bytes(out + ".ckpt") == ckpt);

    // The same recipe with more epochs continues.
    const auto ok = runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--resume", "--epochs", "2", "--lr", "0.004"});
    INFO(ok.err);
    CHECK(ok.code == 0);
    CHECK_THAT(ok.err, Catch::Contains("resuming at epoch 2"));
    // It has now done its 2 epochs: resuming again trains nothing and says so.
    const auto done = runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--resume", "--epochs", "2", "--lr", "0.004"});
    CHECK(done.code == 0);
    CHECK_THAT(done.err, Catch::Contains("all that --epochs 2 asks for") && Catch::Contains("pass a larger --epochs"));
    CHECK_THAT(done.err, !Catch::Contains("model written"));
    // The same with the model gone (its last write failed, or it was removed): written from the checkpoint
    fs::remove(out);
    const auto rewrite = runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--resume", "--epochs", "2", "--lr", "0.004"});
    INFO(rewrite.err);
    CHECK(rewrite.code == 0);
    CHECK_THAT(rewrite.err, Catch::Contains("had done all its steps") && Catch::Contains("written to"));
    REQUIRE(fs::exists(out));
    CHECK(loadModel(out).metadata.count(meta::validationEsr) == 1);

    // --resume without a checkpoint: a usage error, before any audio is read
    const auto none = runTrain(dir.file("in.wav"), dir.file("t.wav"), dir.file("never.safetensors"), {"--resume"});
    CHECK(none.code == apps::kExitUsage);
    CHECK_THAT(none.err, Catch::Contains("no checkpoint") && Catch::Contains("start without --resume"));
}

TEST_CASE("train: a warm-up of 0 is an option like any other, given or taken from the resumed run", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 22);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("t.wav"), device(in, 4.0, 0));
    const std::string zero = dir.file("zero.safetensors"), usual = dir.file("usual.safetensors");
    REQUIRE(runTrain(dir.file("in.wav"), dir.file("t.wav"), zero, {"--warmup", "0"}).code == 0);
    REQUIRE(runTrain(dir.file("in.wav"), dir.file("t.wav"), usual, {}).code == 0); // the helper's warm-up, 512
    const auto same = runTrain(dir.file("in.wav"), dir.file("t.wav"), zero, {"--resume", "--epochs", "2", "--warmup", "0"});
    INFO(same.err);
    CHECK(same.code == 0);
    CHECK_THAT(same.err, Catch::Contains("resuming at epoch 2"));
    // --warmup 0 is not "not given": a run with another warm-up refuses it
    const auto other = runTrain(dir.file("in.wav"), dir.file("t.wav"), usual, {"--resume", "--epochs", "2", "--warmup", "0"});
    CHECK(other.code == apps::kExitUsage);
    CHECK_THAT(other.err, Catch::Contains("--warmup: 512 in that run, 0 now"));
    // Nothing given: the resumed run's shape, a warm-up of 0 included (a run moved to another device)
    const apps::train::Recipe run = {{"batch", "4"}, {"segment", "2048"}, {"warmup", "0"}};
    const auto shape = apps::train::chooseStepShape({}, run, apps::train::StepShape{16, 4096, 1024});
    CHECK(shape.fromRun);
    CHECK(shape.batch == 4);
    CHECK(shape.segment == 2048);
    CHECK(shape.warmup == 0);
    apps::train::GivenStepShape given;
    given.warmup = 0;
    CHECK(apps::train::chooseStepShape(given, {{"batch", "4"}, {"segment", "2048"}, {"warmup", "512"}}, {16, 4096, 1024}).warmup == 0);
}

TEST_CASE("train: --max-minutes only stops a run with steps left, and usage errors come before the audio is read", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 22);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("t.wav"), device(in, 4.0, 0));
    const std::string out = dir.file("m.safetensors");
    // a limit the run stays under: no "reached"
    const auto under = runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--max-minutes", "100"});
    CHECK(under.code == 0);
    CHECK_THAT(under.err, !Catch::Contains("--max-minutes reached") && Catch::Contains("model written"));
    // a limit every step is over: stopped at the first step with a checkpoint, mid-epoch
    const auto over = runTrain(dir.file("in.wav"), dir.file("t.wav"), dir.file("m2.safetensors"), {"--max-minutes", "1e-9", "--epochs", "3"});
    CHECK(over.code == 0);
    CHECK_THAT(over.err, Catch::Contains("--max-minutes reached at step 1 of") && Catch::Contains("--resume"));
    CHECK(fs::exists(dir.file("m2.safetensors.ckpt")));
    CHECK_FALSE(fs::exists(dir.file("m2.safetensors")));
    CHECK_THAT(over.err, Catch::Contains("no epoch finished"));
    // --overwrite over an existing model, stopped before the first epoch: not "from an earlier run"
    const auto again = runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--max-minutes", "1e-9", "--epochs", "3", "--overwrite"});
    CHECK(again.code == 0);
    CHECK_THAT(again.err, Catch::Contains("no epoch finished") && !Catch::Contains("earlier run") && !Catch::Contains("learned almost nothing"));

    // Impossible options are refused without reading the (missing) input: exit 2, not a file error.
    for (const std::vector<std::string>& bad : {std::vector<std::string>{"--device", "gpu"}, {"--stft-sizes", "100"},
                                                 {"--batch", "0"}, {"--segment", "10"}}) {
        const auto r = runTrain(dir.file("missing.wav"), dir.file("t.wav"), dir.file("x.safetensors"), bad);
        INFO(bad[0] << " " << bad[1] << ": " << r.err);
        CHECK(r.code == apps::kExitUsage);
        CHECK_THAT(r.err, !Catch::Contains("missing.wav"));
    }
    // Segments longer than the recordings: a usage error naming both options
    const auto longSeg = runTrain(dir.file("in.wav"), dir.file("t.wav"), dir.file("y.safetensors"), {"--warmup", "9000000"});
    CHECK(longSeg.code == apps::kExitUsage);
    CHECK_THAT(longSeg.err, Catch::Contains("--segment or --warmup"));
}

TEST_CASE("train: a model that learned nothing is called out, with the latency to check", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 23);
    writeWav(dir.file("in.wav"), in);
    // a target unrelated to the input: nothing to learn (ESR about 1), whatever the latency
    writeWav(dir.file("t.wav"), noise(48000 * 6, 0.3f, 99));
    const auto r = runTrain(dir.file("in.wav"), dir.file("t.wav"), dir.file("m.safetensors"), {"--latency", "0"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.err, Catch::Contains("learned almost nothing") && Catch::Contains("latency 0 samples") && Catch::Contains("--latency"));
}

TEST_CASE("train: knob settings written wrong are named as such, and one setting is not a knob", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 24);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("g0.wav"), device(in, 1.0, 0));
    writeWav(dir.file("g1.wav"), device(in, 4.0, 0));
    const std::string g0 = dir.file("g0.wav"), g1 = dir.file("g1.wav");
    auto parseError = [](const std::string& arg) {
        try {
            (void)apps::train::parseTargetSpec(arg);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK_THAT(parseError("gain:" + g0), Catch::Contains("write a knob setting as name=value") && Catch::Contains("gain=0.5:"));
    CHECK_THAT(parseError("gain=0.5"), Catch::Contains("gives a knob setting but no file"));
    CHECK_THAT(parseError("gain=1e400:" + g0), Catch::Contains("not a finite number"));
    CHECK(parseError("gain=0.5:" + g0).empty());
    // the first target without knobs: the message names both, not only the second
    CHECK_THAT(prepareError(dir.file("in.wav"), {g0, "gain=1:" + g1}), Catch::Contains("names no knobs") && Catch::Contains("g1.wav' gain"));
    // a knob at a single setting cannot be learned
    CHECK_THAT(prepareError(dir.file("in.wav"), {"gain=0:" + g0}), Catch::Contains("has the one setting 0.000"));
    // a usage error, found before any file is read (the input here does not exist)
    CHECK_THAT(prepareError(dir.file("missing.wav"), {"gain=0:" + g0}), Catch::Contains("has the one setting"));
    // the default is the median: for {0, 1} their mean
    const auto data = apps::train::prepareData(dir.file("in.wav"),
                                               {apps::train::parseTargetSpec("gain=0:" + g0), apps::train::parseTargetSpec("gain=1:" + g1)}, {});
    REQUIRE(data.knobs.size() == 1);
    CHECK(data.knobs[0].def == 0.5);
}

TEST_CASE("train: the default description names the target, and a checkpoint given as a model is named as one", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 25);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("my-pedal.wav"), device(in, 4.0, 0));
    const std::string out = dir.file("m.safetensors");
    REQUIRE(runTrain(dir.file("in.wav"), dir.file("my-pedal.wav"), out).code == 0);
    const Model m = loadModel(out);
    CHECK(m.metadata.at(meta::description) == "Captured with mambafx train from my-pedal.wav");
    CHECK(m.metadata.at("train_targets") == "my-pedal.wav");
    CHECK_THAT(m.metadata.at("train_schedule"), Catch::StartsWith("1 epoch of "));
    CHECK_THAT(m.metadata.at("train_schedule"), Catch::Contains("batch 4 x (2048 + 512") && Catch::Contains("seed 1"));
    try {
        (void)loadModel(out + ".ckpt");
        FAIL("a checkpoint loaded as a model");
    } catch (const ModelError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("training checkpoint") && Catch::Contains("without .ckpt"));
    }
    // another program's .ckpt (not ours): the plain format error, not "a checkpoint of mambafx train"
    writeText(dir.file("other.ckpt"), std::string(64, 'x'));
    try {
        (void)loadModel(dir.file("other.ckpt"));
        FAIL("random bytes loaded as a model");
    } catch (const ModelError& e) {
        CHECK_THAT(std::string(e.what()), !Catch::Contains("training checkpoint"));
    }
}

TEST_CASE("train: an existing checkpoint is not replaced without --resume or --overwrite", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 11);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("t.wav"), device(in, 4.0, 0));
    const std::string out = dir.file("m.safetensors"), ckpt = out + ".ckpt";
    REQUIRE(runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--seed", "2"}).code == 0); // another seed: another checkpoint
    // What a run stopped by Ctrl-C before its first epoch ended leaves: a checkpoint, no model.
    fs::remove(out);
    auto bytes = [](const std::string& p) {
        std::ifstream f(p, std::ios::binary);
        return std::vector<char>((std::istreambuf_iterator<char>(f)), {});
    };
    const auto before = bytes(ckpt);
    const auto r = runTrain(dir.file("in.wav"), dir.file("t.wav"), out);
    CHECK(r.code == apps::kExitUsage);
    CHECK_THAT(r.err, Catch::Contains(ckpt + " exists") && Catch::Contains("--resume") && Catch::Contains("--overwrite"));
    CHECK(bytes(ckpt) == before);
    CHECK_FALSE(fs::exists(out));
    // Either option goes on: --resume continues it, --overwrite starts again.
    CHECK(runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--resume", "--epochs", "2", "--seed", "2"}).code == 0);
    CHECK(runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--overwrite"}).code == 0);
    CHECK(fs::exists(out));
}

TEST_CASE("train: checkpoint files are written whole, and --resume needs the run state", "[train]") {
    TempDir dir;
    const auto in = noise(48000 * 6, 0.3f, 13);
    writeWav(dir.file("in.wav"), in);
    writeWav(dir.file("t.wav"), device(in, 4.0, 0));
    const std::string out = dir.file("m.safetensors"), state = out + ".ckpt.json";
    REQUIRE(runTrain(dir.file("in.wav"), dir.file("t.wav"), out).code == 0);
    CHECK(tempFiles(dir.path).empty());
    // The run state is JSON holding the model's validation ESR.
    std::ifstream sf(state);
    const auto j = nlohmann::json::parse(sf);
    CHECK(j.at("best_validation_esr").get<double>() == Approx(std::stod(loadModel(out).metadata.at("validation_esr"))).margin(1e-6));
    CHECK(j.at("train_seconds").get<double>() >= 0);
    const std::string saved = j.dump();

    auto resume = [&]() { return runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--resume", "--epochs", "2"}); };
    SECTION("a missing run state") {
        fs::remove(state);
        const auto r = resume();
        CHECK(r.code == apps::kExitFailure);
        CHECK_THAT(r.err, Catch::Contains("the run state " + state + " is missing") && Catch::Contains("--overwrite"));
    }
    SECTION("a truncated run state") {
        writeText(state, saved.substr(0, saved.size() / 2));
        const auto r = resume();
        CHECK(r.code == apps::kExitFailure);
        CHECK_THAT(r.err, Catch::Contains("the run state " + state + " is damaged"));
        writeText(state, "");
        CHECK(resume().code == apps::kExitFailure);
    }
    SECTION("the two-number run state of earlier versions still resumes") {
        writeText(state, "0.5 12.5\n");
        CHECK(resume().code == 0);
    }
    SECTION("a checkpoint that cannot be moved into place leaves no temporary file") {
        // A non-empty folder where the checkpoint goes: the rename fails.
        fs::remove(out + ".ckpt");
        fs::create_directories(out + ".ckpt/keep");
        const auto r = runTrain(dir.file("in.wav"), dir.file("t.wav"), out, {"--overwrite"});
        CHECK(r.code != 0);
        CHECK_THAT(r.err, Catch::Contains(out + ".ckpt"));
        CHECK(tempFiles(dir.path).empty());
    }
}

TEST_CASE("train: writeFileAtomically replaces a file whole and never leaves its temporary file", "[train]") {
    TempDir dir;
    const std::string p = dir.file("f.bin");
    apps::train::writeFileAtomically(p, "first", "the test file");
    apps::train::writeFileAtomically(p, "second", "the test file");
    std::ifstream f(p, std::ios::binary);
    CHECK(std::string((std::istreambuf_iterator<char>(f)), {}) == "second");
    fs::create_directories(dir.file("folder/inside"));
    CHECK_THROWS_WITH(apps::train::writeFileAtomically(dir.file("folder"), "x", "the test file"),
                      Catch::Contains("cannot write the test file " + dir.file("folder")));
    CHECK_THROWS_WITH(apps::train::writeFileAtomically(dir.file("no/such/f.bin"), "x", "the test file"),
                      Catch::Contains("cannot create") && Catch::Contains("writable"));
    CHECK(tempFiles(dir.path).empty());
}
