// `mambafx capture-signal`: Ctrl-C / SIGTERM while writing leave neither the output nor its
// temporary file behind.
#include "AppTestUtil.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

using namespace mfx::apptest;
using Catch::Matchers::Contains;

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
