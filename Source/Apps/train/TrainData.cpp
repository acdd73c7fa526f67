#include "TrainData.h"

#include <common/AudioFile.h>
#include <common/Errors.h>

#include <Train/CaptureSignal.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace mfx::apps::train {

namespace {

using mfx::train::Recording;

std::string fmt(double v, int prec = 1) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}

struct Mono {
    std::vector<float> x;
    int rate = 0;
    int channels = 0;
};

Mono readMono(const std::string& path, const char* role) {
    AudioData d = readAudioFile(path); // throws Failure "cannot read <file>: <reason>"
    Mono m;
    m.rate = d.info.sampleRate;
    m.channels = d.info.channels;
    const std::size_t frames = m.channels > 0 ? d.samples.size() / static_cast<std::size_t>(m.channels) : 0;
    m.x.resize(frames);
    for (std::size_t i = 0; i < frames; ++i) m.x[i] = d.samples[i * static_cast<std::size_t>(m.channels)];
    if (frames == 0) throw Failure(std::string("the ") + role + " file " + path + " holds no audio");
    // A float file can hold NaN or infinity, which would poison the loss (a NaN in the validation part
    // gave a validation ESR of 0) or pass for silence: refuse it here, where the file can be named.
    for (std::size_t i = 0; i < frames; ++i)
        if (!std::isfinite(m.x[i]))
            throw Failure(std::string("the ") + role + " file " + path + " holds " +
                          (std::isnan(m.x[i]) ? "a NaN (not a number)" : "an infinite value") + " at sample " + std::to_string(i) +
                          " (" + fmt(static_cast<double>(i) / m.rate, 3) +
                          " s): the file is damaged or was written by a faulty tool or plug-in; export or record it again "
                          "(an integer format such as 24-bit WAV cannot hold such values)");
    return m;
}

} // namespace

TargetSpec parseTargetSpec(const std::string& arg) {
    TargetSpec s;
    const auto colon = arg.find(':');
    if (colon != std::string::npos && arg.substr(0, colon).find('=') != std::string::npos) {
        std::stringstream items(arg.substr(0, colon));
        std::string item;
        while (std::getline(items, item, ',')) {
            const auto eq = item.find('=');
            if (eq == std::string::npos || eq == 0)
                throw UsageError("--target '" + arg + "': write knob settings as name=value (e.g. gain=0.5:recorded.wav)");
            char* end = nullptr;
            const std::string v = item.substr(eq + 1);
            const double value = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !std::isfinite(value))
                throw UsageError("--target '" + arg + "': '" + v + "' is not a finite number (write e.g. gain=0.5:recorded.wav)");
            s.knobs.emplace_back(item.substr(0, eq), value);
        }
        s.path = arg.substr(colon + 1);
    } else {
        s.path = arg;
        std::error_code ec;
        // "gain=0.5" (no file) and "gain:rec.wav" (no value): knob settings written wrong, not file names
        if (colon == std::string::npos && arg.find('=') != std::string::npos && !std::filesystem::exists(arg, ec))
            throw UsageError("--target '" + arg + "' gives a knob setting but no file; write gain=0.5:recorded.wav");
        if (colon != std::string::npos && colon > 0 && arg.find_first_of("/.\\") > colon && !std::filesystem::exists(arg, ec))
            throw UsageError("--target '" + arg + "': write a knob setting as name=value before the file (e.g. " +
                             arg.substr(0, colon) + "=0.5:" + arg.substr(colon + 1) + ")");
    }
    if (s.path.empty()) throw UsageError("--target '" + arg + "' names no file");
    return s;
}

std::string conditioningJson(const std::vector<KnobRange>& knobs) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& k : knobs) a.push_back({{"name", k.name}, {"min", k.min}, {"max", k.max}, {"default", k.def}});
    return a.dump();
}

PreparedData prepareData(const std::string& inputPath, const std::vector<TargetSpec>& targets, const DataOptions& o) {
    PreparedData out;
    if (targets.empty()) throw UsageError("give at least one --target recording");
    // Knob names must be the same, in the same order, on every target.
    const auto& first = targets.front().knobs;
    for (const auto& t : targets) {
        bool same = t.knobs.size() == first.size();
        for (std::size_t i = 0; same && i < first.size(); ++i) same = t.knobs[i].first == first[i].first;
        if (!same) {
            auto knobsOf = [](const TargetSpec& s) {
                std::string k;
                for (const auto& [name, value] : s.knobs) k += (k.empty() ? "" : ", ") + name;
                return k.empty() ? std::string("no knobs") : k;
            };
            throw UsageError("every --target must name the same knobs in the same order (e.g. gain=0:a.wav gain=1:b.wav); '" +
                             targets.front().path + "' names " + knobsOf(targets.front()) + ", '" + t.path + "' " + knobsOf(t));
        }
    }
    if (targets.size() > 1 && first.empty())
        throw UsageError("several --target files need knob settings (e.g. --target gain=0:a.wav --target gain=1:b.wav)");
    std::set<std::vector<double>> settings;
    for (const auto& t : targets) {
        std::vector<double> v;
        for (const auto& k : t.knobs) v.push_back(k.second);
        if (!settings.insert(v).second) throw UsageError("two --target files have the same knob settings ('" + t.path + "')");
    }

    // The knobs' ranges and defaults: usage errors, before any file is read.
    for (std::size_t k = 0; k < first.size(); ++k) {
        KnobRange r{first[k].first, 1e300, -1e300, 0};
        std::vector<double> vals;
        for (const auto& t : targets) {
            r.min = std::min(r.min, t.knobs[k].second);
            r.max = std::max(r.max, t.knobs[k].second);
            vals.push_back(t.knobs[k].second);
        }
        if (!(r.max > r.min))
            throw UsageError("the knob '" + r.name + "' has the one setting " + fmt(r.min, 3) +
                             " on every --target: a knob is learned from recordings at two or more settings (e.g. --target " +
                             r.name + "=0:a.wav --target " + r.name + "=1:b.wav), or leave it out");
        std::sort(vals.begin(), vals.end());
        const std::size_t mid = vals.size() / 2; // the median; of the two middle settings' mean for an even count
        r.def = vals.size() % 2 ? vals[mid] : 0.5 * (vals[mid - 1] + vals[mid]);
        out.knobs.push_back(r);
    }

    const Mono in = readMono(inputPath, "input");
    out.sampleRate = in.rate;
    if (in.channels > 1) out.notes.push_back("the input has " + std::to_string(in.channels) + " channels; using the first");
    if (in.rate != 48000)
        out.warnings.push_back("the input's sample rate is " + std::to_string(in.rate) + " Hz; the model will run at that rate");
    const mfx::train::CaptureSignal standard = mfx::train::makeCaptureSignal();
    out.standardSignal = in.rate == 48000 && mfx::train::isCaptureSignal(in.x, standard);
    // what the split below keeps for validation: validationFraction of the file, at least 5 s (at most half)
    const double secs = static_cast<double>(in.x.size()) / in.rate;
    const double valSecs = std::max(o.validationFraction * secs, std::min(5.0, 0.5 * secs));
    out.notes.push_back(out.standardSignal ? "the input is the standard capture signal: using its training and validation parts"
                                           : "the input is not the standard capture signal: its last " + fmt(valSecs, 1) + " s (" +
                                                 fmt(100 * valSecs / std::max(secs, 1e-9), 0) + " %) are kept for validation");
    out.inputPeakDb = mfx::train::peakDb(in.x);
    // A silent input has nothing to align a target to: say so before any latency search.
    if (!std::isfinite(out.inputPeakDb) || out.inputPeakDb < -80.0)
        throw Failure(inputPath + ": the input is silent (peak " + (std::isfinite(out.inputPeakDb) ? fmt(out.inputPeakDb) : std::string("-inf")) +
                      " dBFS); use the file you played into the device (e.g. from `mambafx capture-signal`)");

    out.targetPeakDb = -INFINITY;
    for (const auto& t : targets) {
        Mono tg = readMono(t.path, "target");
        const std::string label = t.path;
        if (tg.rate != in.rate)
            throw Failure("sample rates differ: the input is " + std::to_string(in.rate) + " Hz but the target " + t.path + " is " +
                          std::to_string(tg.rate) + " Hz; record the target at the input's rate (or resample it first)");
        if (tg.channels > 1) out.notes.push_back(t.path + " has " + std::to_string(tg.channels) + " channels; using the first");
        const double secIn = static_cast<double>(in.x.size()) / in.rate, secTg = static_cast<double>(tg.x.size()) / in.rate;
        if (secTg + 0.1 < secIn)
            throw Failure("lengths differ: the target " + t.path + " is " + fmt(secTg, 2) + " s but the input " + fmt(secIn, 2) +
                          " s; the recording stopped early or is of another file: record the whole input");
        if (secTg > secIn + 10.0)
            throw Failure("lengths differ: the target " + t.path + " is " + fmt(secTg, 2) + " s, the input only " + fmt(secIn, 2) +
                          " s; trim the recording to start when the input starts (at most 10 s longer)");
        // A silent recording has no latency to find: say so first.
        const double rawPeak = mfx::train::peakDb(tg.x);
        if (!std::isfinite(rawPeak) || rawPeak < -60.0)
            throw Failure(t.path + ": the target is silent (peak " + (std::isfinite(rawPeak) ? fmt(rawPeak) : std::string("-inf")) +
                          " dBFS); check the recording chain (input selected, device powered, levels up) and record again");
        // Latency.
        long lat = o.latency;
        std::string how = "given with --latency";
        if (lat >= 0 && static_cast<std::size_t>(lat) >= tg.x.size() / 2)
            throw UsageError("--latency " + std::to_string(lat) + " samples is more than half of " + t.path + " (" +
                             std::to_string(tg.x.size()) + " samples); give the recording's delay in samples (e.g. 128 for "
                             "2.7 ms at 48 kHz), or leave --latency out to detect it");
        const long maxLat = o.maxLatencyMs * in.rate / 1000;
        if (lat < 0) {
            mfx::train::LatencyResult r;
            // The blips' pattern makes any latency the target's extra length allows safe to find
            // (up to 10 s); cross-correlation is limited to maxLat (its cost grows with the range).
            const long maxBlipLat = std::max(maxLat, static_cast<long>(tg.x.size()) - static_cast<long>(in.x.size()) + 2400);
            if (out.standardSignal) r = mfx::train::latencyFromBlips(in.x, tg.x, standard.blips, maxBlipLat);
            if (out.standardSignal && !r.found)
                out.warnings.push_back(t.path + ": the calibration blips of the capture signal do not line up in it (the start "
                                                "and end blips' replies disagree: a recording edited or cut, or one whose clock "
                                                "drifts more than about 400 ppm against the playback); the latency is taken by cross-correlation "
                                                "instead, and a drifting recording trains badly: record input and output on one "
                                                "interface (same clock)");
            if (!r.found) r = mfx::train::latencyByCrossCorrelation(in.x, tg.x, maxLat);
            if (!r.found)
                throw Failure("could not find the latency of " + t.path +
                              ": the target does not correlate with the input; is it a recording of this input? "
                              "(or give it with --latency SAMPLES)");
            // A recorder on its own clock: the end blips answer later (or earlier) than the start
            // blips. Resample the target by the measured ratio: the latency is then one number
            // throughout.
            std::string driftNote;
            if (r.method == "blips" && std::labs(r.driftSamples) > 2 && r.driftRatio != 0.0) {
                auto fixedTarget = mfx::train::removeClockDrift(tg.x, r);
                const double ppm = r.driftRatio * 1e6;
                out.warnings.push_back(t.path + ": the recording's clock runs " + fmt(std::fabs(ppm), 1) + " ppm " +
                                       (ppm > 0 ? "fast" : "slow") + " against the capture signal's (the end blips answer " +
                                       std::to_string(std::labs(r.driftSamples)) + " samples " +
                                       (r.driftSamples > 0 ? "later" : "earlier") + " than the start blips); the target was "
                                       "resampled by that ratio to remove it. Better: record input and output on one "
                                       "interface (same clock)");
                tg.x = std::move(fixedTarget.target);
                r.samples = fixedTarget.latency;
                driftNote = " after removing a clock drift of " + fmt(ppm, 1) + " ppm";
            }
            if (r.samples < 0)
                throw Failure("the target " + t.path + " is ahead of the input by " + std::to_string(-r.samples) +
                              " samples; the files are swapped or trimmed differently: check --input and --target");
            lat = r.samples;
            how = (r.method == "blips" ? "from the calibration blips" : "by cross-correlation (peak " + fmt(r.confidence, 2) + ")") + driftNote;
            if (r.method == "blips" && !r.endFound)
                out.warnings.push_back(t.path + ": the end blips' replies were not found (a recording stopped before the "
                                                "end, or a device that gates the quiet end): clock drift could not be "
                                                "checked; if input and output were recorded on different interfaces, the "
                                                "end of the file may be off by as much as they drift");
        }
        out.latencies.push_back(lat);
        out.latencyNotes.push_back(t.path + ": latency " + std::to_string(lat) + " samples (" + fmt(1000.0 * lat / in.rate, 2) +
                                   " ms), " + how + (lat > 0 ? "; removed" : ""));
        const std::size_t n = std::min(in.x.size(), tg.x.size() - static_cast<std::size_t>(std::min<long>(lat, static_cast<long>(tg.x.size()))));
        std::vector<float> x(in.x.begin(), in.x.begin() + static_cast<long>(n));
        std::vector<float> y(tg.x.begin() + lat, tg.x.begin() + lat + static_cast<long>(n));
        auto check = mfx::train::checkPair(x, y, label);
        if (o.allowClipping) {
            for (auto it = check.errors.begin(); it != check.errors.end();)
                if (it->find("clipped") != std::string::npos) {
                    check.warnings.push_back(*it);
                    it = check.errors.erase(it);
                } else {
                    ++it;
                }
        }
        if (!check.errors.empty()) {
            // with what else was found about this pair: a clipped input, the signal not being the
            // standard one, may be the cause
            std::string all;
            for (const auto& e : check.errors) all += (all.empty() ? "" : "\n") + e;
            for (const auto& w : check.warnings) all += "\nalso: " + w;
            for (const auto& n : out.notes) all += "\nnote: " + n;
            throw Failure(all);
        }
        for (auto& w : check.warnings) out.warnings.push_back(w);
        out.targetPeakDb = std::max(out.targetPeakDb, mfx::train::peakDb(y));

        std::vector<float> cond;
        std::string tag = t.path;
        for (const auto& k : t.knobs) cond.push_back(static_cast<float>(k.second));
        std::size_t trB, trE, vaB, vaE;
        if (out.standardSignal) {
            trB = standard.trainBegin;
            trE = std::min(standard.trainEnd, n);
            vaB = std::min(standard.valBegin, n);
            vaE = std::min(standard.valEnd, n);
        } else {
            const std::size_t nv = static_cast<std::size_t>(std::max(o.validationFraction * static_cast<double>(n), std::min(5.0 * in.rate, 0.5 * static_cast<double>(n))));
            trB = 0;
            trE = n - nv;
            vaB = trE;
            vaE = n;
        }
        // The validation ESR divides by the energy of this part: it must hold signal.
        const std::vector<float> valTarget(y.begin() + static_cast<long>(vaB), y.begin() + static_cast<long>(vaE));
        const double valPeak = mfx::train::peakDb(valTarget);
        if (!std::isfinite(valPeak) || valPeak < -60.0)
            throw Failure(t.path + ": the validation part of the target (" + fmt(static_cast<double>(vaB) / in.rate, 2) + " s to " +
                          fmt(static_cast<double>(vaE) / in.rate, 2) + " s after the latency is removed) is silent (peak " +
                          (std::isfinite(valPeak) ? fmt(valPeak) : std::string("-inf")) +
                          " dBFS), so the model cannot be measured on it; the recording dropped out or the input ends in "
                          "silence: record again, or play an input with signal up to its end");
        Recording tr{std::vector<float>(x.begin() + static_cast<long>(trB), x.begin() + static_cast<long>(trE)),
                     std::vector<float>(y.begin() + static_cast<long>(trB), y.begin() + static_cast<long>(trE)), cond, tag};
        Recording va{std::vector<float>(x.begin() + static_cast<long>(vaB), x.begin() + static_cast<long>(vaE)),
                     std::vector<float>(y.begin() + static_cast<long>(vaB), y.begin() + static_cast<long>(vaE)), cond, tag};
        out.train.push_back(std::move(tr));
        out.val.push_back(std::move(va));
    }
    return out;
}

} // namespace mfx::apps::train
