// mambafx's command line: help, version, `info`, and every usage error of `render` (exit 2) or
// input problem (exit 1), each with a message that names the problem.
#include "AppTestUtil.h"

#include <Model/ModelFile.h>
#include <Model/Safetensors.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sndfile.h>

#include <fstream>
#include <functional>

using namespace mfx;
using namespace mfx::apptest;
using Catch::Matchers::Contains;

TEST_CASE("mambafx --help, --version and per-command help exit 0", "[apps]") {
    const auto help = runMambafx({"--help"});
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Contains("info") && Contains("render"));
    const auto version = runMambafx({"--version"});
    CHECK(version.code == 0);
    CHECK_THAT(version.out, Contains("mambafx " MFX_VERSION));
    const auto renderHelp = runMambafx({"render", "--help"});
    CHECK(renderHelp.code == 0);
    CHECK_THAT(renderHelp.out, Contains("--out-dir") && Contains("--bit-depth") && Contains("--mix"));
    const auto infoHelp = runMambafx({"info", "--help"});
    CHECK(infoHelp.code == 0);
    CHECK_THAT(infoHelp.out, Contains("MODEL"));
}

TEST_CASE("mambafx without a command or with an unknown one is a usage error", "[apps]") {
    CHECK(runMambafx({}).code == 2);
    const auto unknown = runMambafx({"frobnicate"});
    CHECK(unknown.code == 2);
    CHECK_THAT(unknown.err, Contains("'frobnicate' is not a mambafx command") && Contains("render"));
}

TEST_CASE("mambafx info prints config, size, parameters and all metadata of a valid model", "[apps]") {
    TempDir dir;
    Model model = makeModel(smallConfig(44100.0), 7);
    model.metadata[meta::description] = "line one\nline two";
    model.metadata[meta::license] = "CC0";
    model.metadata["custom_key"] = "custom value";
    const auto path = saveTestModel(model, dir / "m.safetensors");

    const auto r = runMambafx({"info", path.string()});
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Contains("apps test model"));
    CHECK_THAT(r.out, Contains("d_model      8"));
    CHECK_THAT(r.out, Contains("44100 Hz"));
    CHECK_THAT(r.out, Contains(std::to_string(model.config.parameterCount())));
    CHECK_THAT(r.out, Contains(std::to_string(std::filesystem::file_size(path)) + " bytes"));
    CHECK_THAT(r.out, Contains("line one") && Contains("line two") && Contains("CC0"));
    CHECK_THAT(r.out, Contains("custom_key") && Contains("custom value"));

    const auto j = runMambafx({"info", "--json", path.string()});
    CHECK(j.code == 0);
    CHECK_THAT(j.out, Contains("\"parameters\": " + std::to_string(model.config.parameterCount())));
    CHECK_THAT(j.out, Contains("\"custom_key\": \"custom value\""));
}

TEST_CASE("mambafx info rejects a missing, truncated or foreign file with the loader's message", "[apps]") {
    TempDir dir;
    const auto good = saveTestModel(makeModel(smallConfig(), 3), dir / "good.safetensors");

    const auto missing = runMambafx({"info", (dir / "nope.safetensors").string()});
    CHECK(missing.code == 1);
    CHECK_THAT(missing.err, Contains("error:") && Contains("nope.safetensors"));

    // Truncated: half of a valid file.
    const auto size = std::filesystem::file_size(good);
    std::filesystem::copy_file(good, dir / "half.safetensors");
    std::filesystem::resize_file(dir / "half.safetensors", size / 2);
    const auto half = runMambafx({"info", (dir / "half.safetensors").string()});
    CHECK(half.code == 1);
    CHECK_THAT(half.err, Contains("error:"));

    std::ofstream(dir / "text.safetensors") << "this is not a model at all, just some text";
    const auto text = runMambafx({"info", (dir / "text.safetensors").string()});
    CHECK(text.code == 1);
    CHECK_THAT(text.err, Contains("error:"));
    CHECK(text.out.empty());

    CHECK(runMambafx({"info"}).code == 2); // no MODEL
}

namespace {

// A saved model's file with its safetensors header edited by `edit` (the data section kept).
fs::path writeEditedModel(const Model& model, const fs::path& path, const std::function<void(nlohmann::ordered_json&)>& edit) {
    const std::vector<std::uint8_t> bytes = serializeModel(model);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<size_t>(i)];
    auto header = nlohmann::ordered_json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
    edit(header);
    const std::string text = header.dump();
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 8; ++i) f.put(static_cast<char>(static_cast<std::uint64_t>(text.size()) >> (8 * i)));
    f << text;
    f.write(reinterpret_cast<const char*>(bytes.data() + 8 + n), static_cast<std::streamsize>(bytes.size() - 8 - n));
    return path;
}

bool hasControlBytes(const std::string& s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b < 0x20 && b != '\n') || b == 0x7F) return true;
        if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true; // C1
    }
    return false;
}

} // namespace

TEST_CASE("mambafx info prints control characters from the model file as hex escapes, never raw", "[apps]") {
    // Found by review: a name "\x1b[2J..." cleared the terminal when printed by `info`.
    TempDir dir;
    Model model = makeModel(smallConfig(), 5);
    model.metadata[meta::name] = "evil\x1b[2Jname";
    model.metadata[meta::description] = "red \x1b[31mtext\nline two\tand a C1 CSI \xc2\x9b" "1m, caf\xc3\xa9";
    model.metadata["key\x1b]0;title\x07"] = "v";
    const auto path = saveTestModel(model, dir / "m.safetensors");

    const auto r = runMambafx({"info", path.string()});
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK_FALSE(hasControlBytes(r.out));
    CHECK_THAT(r.out, Contains("name        evil\\x1B[2Jname\n"));
    CHECK_THAT(r.out, Contains("red \\x1B[31mtext\n")); // the newline of a multi-line value is kept...
    CHECK_THAT(r.out, Contains("line two\\x09and a C1 CSI \\xC2\\x9B1m, caf\xc3\xa9\n")); // ...other controls escaped, UTF-8 kept
    CHECK_THAT(r.out, Contains("  key\\x1B]0;title\\x07  v\n"));

    const auto j = runMambafx({"info", "--json", path.string()});
    CHECK(j.code == 0);
    CHECK_FALSE(hasControlBytes(j.out));
    CHECK(nlohmann::json::parse(j.out)["name"] == "evil\x1b[2Jname"); // JSON escapes them itself, exactly

    // Tensor names reach the terminal through the loader's error messages (quoteName).
    const auto bad = writeEditedModel(model, dir / "bad.safetensors", [](nlohmann::ordered_json& h) {
        h["\x1b[2Jevil\xc2\x9b"] = h["skip"];
        h.erase("skip");
    });
    const auto e = runMambafx({"info", bad.string()});
    INFO(e.err);
    CHECK(e.code == 1);
    CHECK_FALSE(hasControlBytes(e.err));
    CHECK_THAT(e.err, Contains("unknown tensor '\\x1B[2Jevil\\xC2\\x9B'"));
    CHECK(safetensors::quoteName("a\x01" "b\x7f" "c\xff") == "'a\\x01b\\x7Fc\\xFF'");
}

TEST_CASE("mambafx info --json on a file whose name is not UTF-8 prints it with U+FFFD", "[apps]") {
    // Found by review: it printed only "[json.exception.type_error.316] ..." and no file name.
    TempDir dir;
    const auto path = saveTestModel(makeModel(smallConfig(), 6), dir / "caf\xe9.safetensors"); // Latin-1
    const auto j = runMambafx({"info", "--json", path.string()});
    INFO(j.err);
    CHECK(j.code == 0);
    CHECK(j.err.empty());
    const auto parsed = nlohmann::json::parse(j.out);
    CHECK(parsed["file"] == (dir / "caf\xef\xbf\xbd.safetensors").string());
    const auto t = runMambafx({"info", path.string()});
    CHECK(t.code == 0);
    CHECK_THAT(t.out, Contains("caf\\xE9.safetensors"));
}

TEST_CASE("a shape with millions of dimensions gives a short error message", "[apps]") {
    // Found by review: 2M dimensions made a 6 MB error message.
    CHECK(safetensors::shapeString({}) == "[]");
    CHECK(safetensors::shapeString({2, 3}) == "[2, 3]");
    CHECK(safetensors::shapeString({1, 2, 3, 4, 5, 6, 7, 8}) == "[1, 2, 3, 4, 5, 6, 7, 8]");
    CHECK(safetensors::shapeString({1, 2, 3, 4, 5, 6, 7, 8, 9}) == "[1, 2, 3, 4, 5, 6, 7, 8, ...] (9 dims)");

    TempDir dir;
    const auto bad = writeEditedModel(makeModel(smallConfig(), 8), dir / "dims.safetensors", [](nlohmann::ordered_json& h) {
        h["skip"]["shape"] = std::vector<std::uint64_t>(2'000'000, 1);
    });
    const auto e = runMambafx({"info", bad.string()});
    INFO(e.err.substr(0, 2000));
    CHECK(e.code == 1);
    CHECK_THAT(e.err, Contains("tensor 'skip' has shape [1, 1, 1, 1, 1, 1, 1, 1, ...] (2000000 dims) but"));
    CHECK(e.err.size() < 2000);
}

namespace {

// A folder with a model and a short mono float WAV.
struct RenderFixture {
    TempDir dir;
    fs::path model, wav;
    RenderFixture() {
        model = saveTestModel(makeModel(smallConfig(), 11), dir / "model.safetensors");
        wav = dir / "in.wav";
        writeAudio(wav, noiseSignal(4800, 1), 1, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    }
    RunResult render(std::vector<std::string> extra) const {
        std::vector<std::string> args = {"render", "--model", model.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return runMambafx(args);
    }
};

void checkUsage(const RunResult& r, const std::string& expected) {
    INFO("stderr: " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains(expected));
}

} // namespace

TEST_CASE("render: impossible option combinations are usage errors (exit 2)", "[apps]") {
    RenderFixture f;
    const auto out = (f.dir / "out.wav").string();
    const auto outDir = (f.dir / "outdir").string();
    const auto in = f.wav.string();

    checkUsage(f.render({in}), "-o OUTPUT");                                      // nowhere to write
    checkUsage(f.render({in, "-o", out, "--out-dir", outDir}), "excludes");       // both
    checkUsage(f.render({in, in, "-o", out}), "exactly one input file");          // -o with several inputs
    checkUsage(f.render({f.dir.path().string(), "-o", out}), "exactly one input file");  // -o with a folder
    checkUsage(f.render({in, "-o", out, "--mix", "1.5"}), "--mix");
    checkUsage(f.render({in, "-o", out, "--mix", "-0.1"}), "--mix");
    checkUsage(f.render({in, "-o", out, "--format", "mp4"}), "--format mp4 is not known");
    checkUsage(f.render({in, "-o", out, "--bit-depth", "12"}), "--bit-depth 12 is not known");
    checkUsage(f.render({in, "-o", (f.dir / "o.flac").string(), "--bit-depth", "float"}), "flac cannot store");
    checkUsage(f.render({in, "-o", (f.dir / "o.ogg").string(), "--bit-depth", "16"}), "lossy");
    checkUsage(f.render({in, "-o", out, "--format", "flac"}), "does not match");
    checkUsage(f.render({in, "-o", (f.dir / "o.xyz").string()}), "cannot tell the output format");
    checkUsage(f.render({in, "-o", out, "--device", "gpu"}), "--device gpu is not known");
    checkUsage(f.render({in, "-o", out, "--threads", "-1"}), "--threads");
    checkUsage(f.render({in, "-o", out, "--input-gain", "abc"}), "--input-gain");
    // nan and inf pass CLI::Range (its comparisons are false for nan): finiteRange refuses them
    checkUsage(f.render({in, "-o", out, "--mix", "nan"}), "--mix: nan is outside 0 to 1");
    checkUsage(f.render({in, "-o", out, "--input-gain", "nan"}), "--input-gain");
    checkUsage(f.render({in, "-o", out, "--output-gain", "-inf"}), "--output-gain");
    checkUsage(runMambafx({"render", "--model", "", in, "-o", out}), "--model: is empty"); // an unset "$MODEL"
    checkUsage(f.render({in, "-o", out, "--initial-state", "warm"}), "--initial-state warm is not known");
    checkUsage(f.render({in, "-o", out, "--resample-quality", "ultra"}), "--resample-quality ultra");
    checkUsage(f.render({in, "-o", out, "--cond", "drive=1"}), "no conditioning inputs");
    checkUsage(f.render({"-o", out}), "INPUT");
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(outDir));
}

TEST_CASE("render: input and model problems are errors naming the file (exit 1)", "[apps]") {
    RenderFixture f;
    const auto out = (f.dir / "out.wav").string();

    SECTION("missing input") {
        const auto r = f.render({(f.dir / "missing.wav").string(), "-o", out});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("missing.wav") && Contains("does not exist"));
    }
    SECTION("a file that is not audio, named by the user") {
        std::ofstream(f.dir / "notes.wav") << "RIFF? no, just text pretending to be a wave file";
        const auto r = f.render({(f.dir / "notes.wav").string(), "-o", out});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("cannot read") && Contains("notes.wav"));
        // libsndfile's reason follows the name
        CHECK(r.err.find("notes.wav': ") != std::string::npos);
    }
    SECTION("the output is the input") {
        const auto r = f.render({f.wav.string(), "-o", f.wav.string(), "--overwrite"});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("refusing to overwrite the input"));
    }
    SECTION("--out-dir that would write over the input") {
        const auto r = f.render({f.wav.string(), "--out-dir", f.dir.path().string(), "--overwrite"});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("refusing to overwrite the input"));
    }
    SECTION("existing output without --overwrite is left alone") {
        std::ofstream(out) << "precious";
        const auto r = f.render({f.wav.string(), "-o", out});
        CHECK(r.code == 2); // a usage error, as in train and capture-signal
        CHECK_THAT(r.err, Contains("exists") && Contains("--overwrite"));
        std::ifstream check(out);
        std::string content;
        check >> content;
        CHECK(content == "precious");
        // ...and replaced with --overwrite
        const auto ok = f.render({f.wav.string(), "-o", out, "--overwrite"});
        CHECK(ok.code == 0);
        CHECK(readAudio(out).frames() == 4800);
    }
    SECTION("the output's folder does not exist") {
        const auto r = f.render({f.wav.string(), "-o", (f.dir / "no" / "such" / "o.wav").string()});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("does not exist"));
    }
    SECTION("a broken model") {
        std::ofstream(f.dir / "bad.safetensors") << "garbage";
        const auto r = runMambafx({"render", "--model", (f.dir / "bad.safetensors").string(), f.wav.string(), "-o", out});
        CHECK(r.code == 1);
        CHECK_THAT(r.err, Contains("cannot use the model"));
        CHECK_FALSE(fs::exists(out));
    }
    CHECK(tempFilesIn(f.dir.path()).empty());
}

TEST_CASE("render without --model uses the bundled default or says to pass --model", "[apps]") {
    RenderFixture f;
    const auto out = f.dir / "out.wav";
    const auto r = runMambafx({"render", f.wav.string(), "-o", out.string()});
    if (fs::exists(fs::path(MFX_SOURCE_DIR) / "Resources" / "Models" / "default.safetensors")) {
        CHECK(r.code == 0);
        CHECK(fs::exists(out));
    } else {
        CHECK(r.code == 2);
        CHECK_THAT(r.err, Contains("no model given") && Contains("--model"));
        CHECK_FALSE(fs::exists(out));
    }
}

TEST_CASE("mambafx bench measures every block size and the offline path, fastest and median with --repeat", "[apps]") {
    const auto r = runMambafx({"bench", "--quick", "--seconds", "0.05", "--repeat", "3", "--threads", "1"});
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    for (const char* block : {"block    1 :", "block   64 :", "block  512 :", "block 4096 :"}) CHECK_THAT(r.out, Contains(block));
    CHECK_THAT(r.out, Contains("(median of 3:"));
    CHECK_THAT(r.out, Contains("offline lanes") && Contains("offline chunked") && Contains("x real time"));
    CHECK(runMambafx({"bench", "--repeat", "0"}).code == 2);
}

TEST_CASE("mambafx bench --simd runs the engines on the SIMD target asked for, and names the ones there are", "[apps]") {
    // an unknown name: a usage error that lists the targets of this build and CPU, best first
    const auto bad = runMambafx({"bench", "--quick", "--seconds", "0.05", "--simd", "avx9000"});
    INFO(bad.out << bad.err);
    CHECK(bad.code == 2);
    const std::string key = "(these are: ";
    const auto at = bad.err.find(key);
    REQUIRE(at != std::string::npos);
    const std::string list = bad.err.substr(at + key.size(), bad.err.find(')', at) - at - key.size());
    const std::string last = list.substr(list.rfind(' ') + 1); // the plainest target (SCALAR or EMU128)
    // the header names the target from a dispatched call, so it is the one the engines run on
    const auto r = runMambafx({"bench", "--quick", "--seconds", "0.05", "--threads", "1", "--simd", last});
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Contains("SIMD target " + last + ","));
    CHECK_THAT(r.out, Contains("block   64 :"));
    CHECK(runMambafx({"bench", "--quick", "--simd", ""}).code == 2);
}
