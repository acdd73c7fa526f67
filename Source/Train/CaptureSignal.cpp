// The standard capture signal. Every part is generated from fixed seeds, so the file is identical on
// every machine and the trainer can recognise a recording of it.
#include "CaptureSignal.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace mfx::train {

namespace {

constexpr double kRate = 48000.0;
constexpr double kPi = 3.14159265358979323846;

double dbToGain(double db) { return std::pow(10.0, db / 20.0); }

struct Builder {
    CaptureSignal s;
    std::size_t at() const { return s.samples.size(); }
    void silence(double seconds) { s.samples.resize(at() + static_cast<std::size_t>(seconds * kRate), 0.0f); }
    void region(const std::string& name, std::size_t begin, const std::string& what) { s.regions.push_back({name, begin, at(), what}); }
    // A calibration blip: one full-scale-ish sample pair (+, -) at -6 dBFS, easy to find exactly.
    void blip() {
        s.blips.push_back(at());
        s.samples.push_back(static_cast<float>(dbToGain(-6.0)));
        s.samples.push_back(static_cast<float>(-dbToGain(-6.0)));
    }
    void blips(const std::string& name) {
        const std::size_t b = at();
        silence(0.5);
        for (int i = 0; i < 3; ++i) {
            blip();
            silence(0.5);
        }
        region(name, b, "3 calibration blips (+-0.5 at -6 dBFS), 0.5 s apart, in silence: latency and drift detection");
    }
    // Exponential sine sweep 20 Hz..20 kHz, `seconds` long, with 10 ms fades.
    void sweep(double seconds, double db) {
        const double f1 = 20.0, f2 = 20000.0, T = seconds, k = std::log(f2 / f1);
        const std::size_t n = static_cast<std::size_t>(T * kRate);
        for (std::size_t i = 0; i < n; ++i) {
            const double t = static_cast<double>(i) / kRate;
            const double phase = 2 * kPi * f1 * T / k * (std::exp(t / T * k) - 1.0);
            const double fade = std::min({1.0, t / 0.01, (T - t) / 0.01});
            s.samples.push_back(static_cast<float>(dbToGain(db) * fade * std::sin(phase)));
        }
    }
    // Pink-ish noise (white through a gentle 1-pole) at an RMS level, with 5 ms fades.
    void noise(double seconds, double db, std::mt19937_64& rng) {
        std::normal_distribution<double> g(0.0, 1.0);
        const std::size_t n = static_cast<std::size_t>(seconds * kRate);
        std::vector<double> v(n);
        double lp = 0, ms = 0;
        for (auto& x : v) {
            lp = 0.7 * lp + 0.3 * g(rng);
            x = 0.5 * g(rng) + lp;
            ms += x * x;
        }
        const double scale = dbToGain(db) / std::sqrt(ms / static_cast<double>(n));
        for (std::size_t i = 0; i < n; ++i) {
            const double t = static_cast<double>(i) / kRate;
            const double fade = std::min({1.0, t / 0.005, (seconds - t) / 0.005});
            s.samples.push_back(static_cast<float>(0.89 * std::tanh(v[i] * scale * fade / 0.89))); // soft peaks, no flat tops
        }
    }
};

// Karplus-Strong string: a noise burst circulating in a delay line with a two-point average (low-pass)
// and a loss factor. Returns `seconds` of the note at peak level `peak`.
std::vector<double> pluck(double freq, double seconds, double brightness, std::mt19937_64& rng) {
    const std::size_t period = std::max<std::size_t>(2, static_cast<std::size_t>(kRate / freq));
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::vector<double> line(period);
    double prev = 0;
    for (auto& x : line) { // pick position / brightness: low-pass the excitation
        const double w = u(rng);
        prev = brightness * w + (1.0 - brightness) * prev;
        x = prev;
    }
    const std::size_t n = static_cast<std::size_t>(seconds * kRate);
    std::vector<double> out(n);
    const double loss = 0.996;
    std::size_t idx = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t next = (idx + 1) % period;
        const double y = line[idx];
        line[idx] = loss * 0.5 * (line[idx] + line[next]);
        idx = next;
        out[i] = y;
    }
    double pk = 1e-12;
    for (double x : out) pk = std::max(pk, std::fabs(x));
    for (double& x : out) x /= pk;
    return out;
}

void mixInto(std::vector<float>& dst, std::size_t at, const std::vector<double>& src, double gain) {
    if (dst.size() < at + src.size()) dst.resize(at + src.size(), 0.0f);
    for (std::size_t i = 0; i < src.size(); ++i) dst[at + i] += static_cast<float>(gain * src[i]);
}

// Single plucked notes across the guitar and bass range at levels from -30 to -3 dBFS.
void plucks(Builder& b, double seconds, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const std::size_t end = b.at() + static_cast<std::size_t>(seconds * kRate);
    std::size_t pos = b.at();
    while (pos < end) {
        const double semis = std::floor(u(rng) * 48.0);             // E1 (41 Hz) .. 4 octaves up
        const double freq = 41.2 * std::pow(2.0, semis / 12.0);
        const double len = 0.15 + 1.6 * u(rng);
        const double db = -30.0 + 27.0 * u(rng);
        mixInto(b.s.samples, pos, pluck(freq, len, 0.3 + 0.7 * u(rng), rng), dbToGain(db));
        pos += static_cast<std::size_t>((0.12 + 0.9 * u(rng)) * kRate); // overlapping notes sometimes
    }
    b.s.samples.resize(end, 0.0f);
}

// Strummed chords: 4-6 strings, 8-35 ms apart, down or up strokes, different voicings and levels.
void strums(Builder& b, double seconds, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    static const double shapes[][6] = {{0, 7, 12, 16, 19, 24}, {0, 7, 12, 15, 19, 24}, {0, 5, 10, 15, 19, 24},
                                       {0, 7, 10, 16, 19, 22}, {0, 7, 12, 19, 24, 31}};
    const std::size_t end = b.at() + static_cast<std::size_t>(seconds * kRate);
    std::size_t pos = b.at();
    while (pos < end) {
        const auto& shape = shapes[static_cast<int>(u(rng) * 5) % 5];
        const double root = 82.4 * std::pow(2.0, std::floor(u(rng) * 12.0) / 12.0);
        const int strings = 4 + static_cast<int>(u(rng) * 3);
        const bool up = u(rng) < 0.4;
        const double gap = 0.008 + 0.027 * u(rng);
        const double db = -30.0 + 27.0 * u(rng);
        const double len = 0.25 + 2.0 * u(rng);
        std::vector<double> chord;
        for (int k = 0; k < strings; ++k) {
            const int string = up ? strings - 1 - k : k;
            const auto note = pluck(root * std::pow(2.0, shape[string] / 12.0), len, 0.5 + 0.5 * u(rng), rng);
            const std::size_t off = static_cast<std::size_t>(k * gap * kRate);
            if (chord.size() < off + note.size()) chord.resize(off + note.size(), 0.0);
            for (std::size_t i = 0; i < note.size(); ++i) chord[off + i] += note[i];
        }
        double pk = 1e-12;
        for (double v : chord) pk = std::max(pk, std::fabs(v));
        mixInto(b.s.samples, pos, chord, dbToGain(db) / pk); // the chord peaks at `db`
        pos += static_cast<std::size_t>((0.2 + 1.2 * u(rng)) * kRate);
    }
    b.s.samples.resize(end, 0.0f);
}

// A sustained two-note chord whose level ramps -45 -> -1 -> -45 dBFS (log ramp).
void ramp(Builder& b, double seconds) {
    const std::size_t n = static_cast<std::size_t>(seconds * kRate);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / static_cast<double>(n);
        const double db = -45.0 + 44.0 * (1.0 - std::fabs(2.0 * t - 1.0));
        const double tt = static_cast<double>(i) / kRate;
        const double x = 0.6 * std::sin(2 * kPi * 110.0 * tt) + 0.3 * std::sin(2 * kPi * 164.8 * tt) + 0.1 * std::sin(2 * kPi * 330.0 * tt + 0.3);
        b.s.samples.push_back(static_cast<float>(dbToGain(db) * x));
    }
}

} // namespace

CaptureSignal makeCaptureSignal() {
    Builder b;
    b.s.sampleRate = kRate;
    std::mt19937_64 rng(20261128);
    b.blips("start blips");
    b.s.trainBegin = b.at();
    std::size_t r = b.at();
    b.sweep(10.0, -18.0);
    b.silence(0.5);
    b.sweep(10.0, -6.0);
    b.silence(0.5);
    b.region("sweeps", r, "exponential sine sweeps 20 Hz - 20 kHz, 10 s at -18 dBFS and 10 s at -6 dBFS");
    r = b.at();
    for (double db : {-40.0, -30.0, -20.0, -12.0, -6.0, -3.0}) {
        b.noise(2.0, db, rng);
        b.silence(0.25);
    }
    b.region("noise", r, "noise bursts, 2 s each at -40, -30, -20, -12, -6 and -3 dBFS RMS (peaks soft-limited to -1 dBFS)");
    r = b.at();
    plucks(b, 55.0, rng);
    b.region("plucks", r, "Karplus-Strong plucked single notes, E1 to E5, peaks -30 to -3 dBFS");
    r = b.at();
    strums(b, 40.0, rng);
    b.region("strums", r, "Karplus-Strong strummed chords, 4-6 strings, up and down strokes, -30 to -3 dBFS");
    r = b.at();
    b.silence(2.0);
    b.region("silence", r, "2 s of silence (noise floor, decay)");
    r = b.at();
    ramp(b, 10.0);
    b.silence(0.5);
    b.region("ramp", r, "a sustained chord ramping -45 -> -1 -> -45 dBFS over 10 s");
    b.s.trainEnd = b.at();
    r = b.at();
    b.s.valBegin = b.at();
    std::mt19937_64 vrng(777);
    plucks(b, 12.0, vrng);
    strums(b, 12.0, vrng);
    b.silence(0.5);
    b.s.valEnd = b.at();
    b.region("validation", r, "validation only: 12 s of plucks and 12 s of strums from other seeds");
    b.blips("end blips");
    r = b.at();
    b.silence(0.5);
    b.region("tail", r, "0.5 s of silence");
    // Overlapping notes can add up: scale any region whose peak passes -1 dBFS down to it (no clipping).
    for (const auto& reg : b.s.regions) {
        float pk = 0;
        for (std::size_t i = reg.begin; i < reg.end; ++i) pk = std::max(pk, std::fabs(b.s.samples[i]));
        const float limit = static_cast<float>(dbToGain(-1.0));
        if (pk > limit)
            for (std::size_t i = reg.begin; i < reg.end; ++i) b.s.samples[i] *= limit / pk;
    }
    return b.s;
}

bool isCaptureSignal(const std::vector<float>& input, const CaptureSignal& ref) {
    if (input.size() != ref.samples.size()) return false;
    for (std::size_t i = 0; i < input.size(); ++i)
        if (std::fabs(input[i] - ref.samples[i]) > 1e-5f) return false;
    return true;
}

} // namespace mfx::train
