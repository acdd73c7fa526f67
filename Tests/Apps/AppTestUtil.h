#pragma once
// Helpers for the mambafx tests: temporary folders, running the real `mambafx` binary, writing and
// reading audio with libsndfile directly (not through the code under test), and small random models.
#include <Model/Weights.h>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mfx::apptest {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed (with its contents) at scope end.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

struct RunResult {
    int code = -1; // exit status, or 128 + signal
    std::string out;
    std::string err;
};

// Runs `mambafx args...` and waits for it.
RunResult runMambafx(const std::vector<std::string>& args);
// Starts it without waiting; stdout/stderr go to the given files. Returns the child's pid.
pid_t spawnMambafx(const std::vector<std::string>& args, const fs::path& outFile, const fs::path& errFile);
int waitExit(pid_t pid); // exit status, or 128 + signal

// Small random models saved as .safetensors.
Config smallConfig(double sampleRate = 48000.0);
Model makeModel(const Config& config, std::uint64_t seed);
fs::path saveTestModel(const Model& model, const fs::path& path);

// Audio written and read with libsndfile in the tests themselves. Interleaved (frames, channels).
void writeAudio(const fs::path& path, const std::vector<float>& interleaved, int channels, int sampleRate,
                int sfFormat);
struct Audio {
    std::vector<float> samples; // (frames, channels)
    int channels = 0;
    int sampleRate = 0;
    int format = 0;
    std::size_t frames() const { return channels ? samples.size() / static_cast<std::size_t>(channels) : 0; }
    std::vector<float> channel(int c) const;
};
Audio readAudio(const fs::path& path);

// Test signals.
std::vector<float> noiseSignal(std::size_t n, std::uint64_t seed, float amplitude = 0.5f);
// A band-limited mixture of sines (all below fmax) with a slow envelope, for resampling tests.
std::vector<float> sineMix(std::size_t n, double sampleRate, std::uint64_t seed, double fmax = 8000.0);
std::vector<float> interleave(const std::vector<std::vector<float>>& channels);

// References through the core directly, from the model's rest state at the conditioning values (as
// `mambafx render` starts by default) or, with atRest false, from the zero state.
std::vector<float> renderRealtime(const Model& model, const std::vector<float>& mono, int block = 512,
                                  const std::vector<float>& conditioning = {}, bool atRest = true);
std::vector<float> renderOffline(const Model& model, const std::vector<float>& mono);

// Files in `dir` (recursively) whose name contains ".tmp-".
std::vector<fs::path> tempFilesIn(const fs::path& dir);

double relativeL2(const std::vector<float>& a, const std::vector<float>& b);

} // namespace mfx::apptest
