// `mambafx capture-signal`: every problem with -o is reported before anything is written, naming the
// problem and what to do, and Ctrl-C / SIGTERM while writing leave neither the output nor its
// temporary file behind.
#include "AppTestUtil.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

using namespace mfx::apptest;
using Catch::Matchers::Contains;

namespace {

void checkRefused(const RunResult& r, int code, const std::string& expected) {
    INFO("stderr: " << r.err);
    CHECK(r.code == code);
    CHECK_THAT(r.err, Contains(expected));
    CHECK_THAT(r.err, !Contains(".tmp-")); // the message names the user's path, not the temporary one
}

} // namespace

TEST_CASE("capture-signal: a bad -o is refused before writing, naming the problem", "[apps]") {
    TempDir dir;
    SECTION("a folder that does not exist") {
        // Used to fail only when opening "<out>.tmp-<pid>": "cannot write '.../x.wav.tmp-123' ... No such file or directory".
        checkRefused(runMambafx({"capture-signal", "-q", "-o", (dir / "nodir" / "x.wav").string()}), 1,
                     "the folder '" + (dir / "nodir").string() + "' does not exist; create it first");
    }
    SECTION("a file where the folder should be") {
        std::ofstream(dir / "plain") << "x";
        checkRefused(runMambafx({"capture-signal", "-q", "-o", (dir / "plain" / "x.wav").string()}), 1,
                     (dir / "plain").string() + "' is not a folder");
    }
    SECTION("a folder named by -o, with or without --overwrite and whatever its extension") {
        // Used to say "pass --overwrite"; with --overwrite it wrote the whole signal and then failed "Is a directory".
        fs::create_directories(dir / "out.wav");
        fs::create_directories(dir / "out");
        for (const std::string name : {"out.wav", "out"})
            for (const bool overwrite : {false, true}) {
                std::vector<std::string> args = {"capture-signal", "-q", "-o", (dir / name).string()};
                if (overwrite) args.push_back("--overwrite");
                checkRefused(runMambafx(args), 2, (dir / name).string() + " is a folder; name the file to write in it");
                CHECK(fs::is_directory(dir / name));
            }
    }
    SECTION("a lossy or unknown extension") {
        checkRefused(runMambafx({"capture-signal", "-q", "-o", (dir / "x.mp3").string()}), 2, ".wav, .flac or .aiff");
        checkRefused(runMambafx({"capture-signal", "-q", "-o", (dir / "x").string()}), 2, ".wav, .flac or .aiff");
    }
    SECTION("an existing file without --overwrite") {
        std::ofstream(dir / "x.wav") << "keep";
        checkRefused(runMambafx({"capture-signal", "-q", "-o", (dir / "x.wav").string()}), 2, "exists; pass --overwrite");
        std::ifstream f(dir / "x.wav");
        CHECK(std::string((std::istreambuf_iterator<char>(f)), {}) == "keep");
        CHECK(runMambafx({"capture-signal", "-q", "-o", (dir / "x.wav").string(), "--overwrite"}).code == 0);
        CHECK(readAudio(dir / "x.wav").sampleRate == 48000);
    }
    CHECK(tempFilesIn(dir.path()).empty());
    CHECK_FALSE(fs::exists(dir / "x.mp3"));
}

TEST_CASE("capture-signal: Ctrl-C or SIGTERM while writing removes the temporary file and leaves no output", "[apps]") {
    // Before the fix no handler was installed, so the signal killed the process and "<out>.tmp-<pid>" stayed.
    const int signal = GENERATE(SIGINT, SIGTERM);
    TempDir dir;
    const fs::path out = dir / "t.flac"; // FLAC: the slowest format to write, so the signal lands while writing
    const pid_t pid = spawnMambafx({"capture-signal", "-q", "-o", out.string()}, dir / "stdout", dir / "stderr");
    const fs::path temp = out.string() + ".tmp-" + std::to_string(pid);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(temp) && !fs::exists(out) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    REQUIRE(fs::exists(temp)); // capture-signal writes to <out>.tmp-<pid> while working
    kill(pid, signal);
    const int code = waitExit(pid);
    std::ifstream errFile(dir / "stderr");
    const std::string err((std::istreambuf_iterator<char>(errFile)), std::istreambuf_iterator<char>());
    INFO("signal " << signal << ", stderr: " << err);
    CHECK(code == 130);
    CHECK_THAT(err, Contains("interrupted"));
    CHECK_FALSE(fs::exists(temp));
    CHECK_FALSE(fs::exists(out));
    CHECK(tempFilesIn(dir.path()).empty());
}
