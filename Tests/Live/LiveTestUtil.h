#pragma once
// Small helpers shared by the live tests: a scratch folder, random models on disk, sound files.
#include <Model/ModelFile.h>
#include <Model/RandomModel.h>

#include <sndfile.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace mfx::live::test {

// A fresh folder under the system temp dir, removed with everything in it at the end of the scope.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "mfx-live-XXXXXX").string();
        std::vector<char> name(pattern.begin(), pattern.end());
        name.push_back('\0');
        if (!::mkdtemp(name.data())) throw std::runtime_error("mkdtemp failed");
        path_ = name.data();
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// The small test model: dModel 16, 2 layers, dState 16, init scaled up so it is clearly nonlinear.
inline Config testConfig(double sampleRate = 48000.0) {
    Config c;
    c.dModel = 16;
    c.nLayers = 2;
    c.dState = 16;
    c.dConv = 4;
    c.expand = 2;
    c.dtRank = 1;
    c.sampleRate = sampleRate;
    return c;
}

inline Model testModel(std::uint64_t seed, double sampleRate = 48000.0) {
    InitOptions init;
    init.scale = 2.0;
    init.skip = 0.5;
    Model m = randomModel(testConfig(sampleRate), seed, init);
    m.metadata[meta::name] = "test model " + std::to_string(seed);
    return m;
}

// A guitar-like test signal: decaying plucked partials plus a little noise; first sample nonzero.
inline std::vector<float> pluckedSignal(std::size_t n, double rate, std::uint32_t seed = 7) {
    std::vector<float> x(n);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> noise(-0.02f, 0.02f);
    const double notes[] = {82.41, 110.0, 146.83, 196.0, 246.94, 329.63};
    const std::size_t noteLen = static_cast<std::size_t>(0.5 * rate);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t k = i / noteLen;
        const double t = static_cast<double>(i % noteLen) / rate;
        const double f = notes[k % 6];
        double v = 0.0;
        for (int h = 1; h <= 4; ++h) v += std::sin(2.0 * M_PI * f * h * t + 0.3 * h) / h;
        x[i] = static_cast<float>(0.4 * std::exp(-4.0 * t) * v) + noise(rng);
    }
    return x;
}

inline void writeWav(const std::filesystem::path& path, const std::vector<float>& interleaved, int channels, int rate) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f) throw std::runtime_error("cannot write " + path.string());
    sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / static_cast<std::size_t>(channels)));
    sf_close(f);
}

struct Sound {
    int channels = 0, rate = 0;
    std::vector<float> samples; // (frames, channels)
    std::size_t frames() const { return channels ? samples.size() / static_cast<std::size_t>(channels) : 0; }
};

inline Sound readSound(const std::filesystem::path& path) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (!f) throw std::runtime_error("cannot read " + path.string());
    Sound s;
    s.channels = info.channels;
    s.rate = info.samplerate;
    s.samples.resize(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
    sf_readf_float(f, s.samples.data(), info.frames);
    sf_close(f);
    return s;
}

} // namespace mfx::live::test
