// Helpers for the mambafx tests (see AppTestUtil.h).
#include "AppTestUtil.h"

#include <Engine/OfflineRenderer.h>
#include <Engine/RealtimeEngine.h>
#include <Engine/RestState.h>
#include <Model/ModelFile.h>
#include <Model/RandomModel.h>

#include <fcntl.h>
#include <sndfile.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace mfx::apptest {

TempDir::TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mfx-apps-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
}

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

} // namespace

pid_t spawnMambafx(const std::vector<std::string>& args, const fs::path& outFile, const fs::path& errFile) {
    std::vector<std::string> argv = {MFX_MAMBAFX_EXE};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " MFX_MAMBAFX_EXE);
    return pid;
}

int waitExit(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

RunResult runMambafx(const std::vector<std::string>& args) {
    TempDir logs;
    const pid_t pid = spawnMambafx(args, logs / "out", logs / "err");
    RunResult r;
    r.code = waitExit(pid);
    r.out = slurp(logs / "out");
    r.err = slurp(logs / "err");
    return r;
}

Config smallConfig(double sampleRate) {
    Config c;
    c.dModel = 8;
    c.nLayers = 2;
    c.dState = 8;
    c.dConv = 4;
    c.expand = 2;
    c.dtRank = Config::defaultDtRank(c.dModel);
    c.nCond = 0;
    c.sampleRate = sampleRate;
    return c;
}

Model makeModel(const Config& config, std::uint64_t seed) {
    InitOptions init;
    init.scale = 2.0; // strongly nonlinear, so differences in state or alignment show
    init.skip = 0.5;
    Model m = randomModel(config, seed, init);
    m.metadata[meta::name] = "apps test model";
    m.metadata[meta::author] = "mfx_app_tests";
    return m;
}

fs::path saveTestModel(const Model& model, const fs::path& path) {
    saveModel(model, path.string());
    return path;
}

void writeAudio(const fs::path& path, const std::vector<float>& interleaved, int channels, int sampleRate,
                int sfFormat) {
    SF_INFO info{};
    info.channels = channels;
    info.samplerate = sampleRate;
    info.format = sfFormat;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f) throw std::runtime_error("test: cannot write " + path.string() + ": " + sf_strerror(nullptr));
    sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / static_cast<std::size_t>(channels)));
    sf_close(f);
}

Audio readAudio(const fs::path& path) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (!f) throw std::runtime_error("test: cannot read " + path.string() + ": " + sf_strerror(nullptr));
    Audio a;
    a.channels = info.channels;
    a.sampleRate = info.samplerate;
    a.format = info.format;
    a.samples.resize(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
    const sf_count_t got = sf_readf_float(f, a.samples.data(), info.frames);
    a.samples.resize(static_cast<std::size_t>(got) * static_cast<std::size_t>(info.channels));
    sf_close(f);
    return a;
}

std::vector<float> Audio::channel(int c) const {
    std::vector<float> x(frames());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = samples[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)];
    return x;
}

std::vector<float> noiseSignal(std::size_t n, std::uint64_t seed, float amplitude) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-amplitude, amplitude);
    std::vector<float> x(n);
    for (auto& v : x) v = u(rng);
    return x;
}

std::vector<float> sineMix(std::size_t n, double sampleRate, std::uint64_t seed, double fmax) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> f(40.0, fmax), ph(0.0, 2 * M_PI);
    double freq[6], phase[6];
    for (int k = 0; k < 6; ++k) {
        freq[k] = f(rng);
        phase[k] = ph(rng);
    }
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / sampleRate;
        double v = 0.0;
        for (int k = 0; k < 6; ++k) v += 0.12 * std::sin(2 * M_PI * freq[k] * t + phase[k]);
        x[i] = static_cast<float>(v * (0.6 + 0.4 * std::sin(2 * M_PI * 1.3 * t)));
    }
    return x;
}

std::vector<float> interleave(const std::vector<std::vector<float>>& channels) {
    const std::size_t c = channels.size(), n = channels[0].size();
    std::vector<float> out(n * c);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < c; ++k) out[i * c + k] = channels[k][i];
    return out;
}

std::vector<float> renderRealtime(const Model& model, const std::vector<float>& mono, int block,
                                  const std::vector<float>& conditioning, bool atRest) {
    RealtimeEngine engine(model, 1);
    if (!conditioning.empty()) engine.setConditioning(conditioning.data());
    if (atRest) engine.setInitialState(engineRestState(model, conditioning.empty() ? nullptr : conditioning.data()));
    std::vector<float> out(mono.size());
    for (std::size_t i = 0; i < mono.size(); i += static_cast<std::size_t>(block)) {
        const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(block), mono.size() - i));
        engine.processChannel(0, mono.data() + i, out.data() + i, n);
    }
    return out;
}

std::vector<float> renderOffline(const Model& model, const std::vector<float>& mono) {
    OfflineRenderer renderer(model, 1);
    renderer.setState(0, engineRestState(model));
    std::vector<float> out(mono.size());
    renderer.process(0, mono.data(), out.data(), mono.size());
    return out;
}

std::vector<fs::path> tempFilesIn(const fs::path& dir) {
    std::vector<fs::path> found;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(e.path());
    return found;
}

double relativeL2(const std::vector<float>& a, const std::vector<float>& b) {
    // Signals of different lengths (a truncated render) or empty ones are a failure, not a small error.
    if (a.size() != b.size() || a.empty())
        throw std::runtime_error("relativeL2: the signals differ in length (" + std::to_string(a.size()) + " and " +
                                 std::to_string(b.size()) + " samples) or are empty");
    double num = 0.0, den = 0.0;
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        num += d * d;
        den += static_cast<double>(b[i]) * b[i];
    }
    return std::sqrt(num / std::max(den, 1e-300));
}

} // namespace mfx::apptest
