// Latency and clock drift from the capture signal's calibration blips (Alignment.h), and the
// resampling that removes a recorder's drift.
#include "Alignment.h"

#include "../Dsp/Resampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mfx::train {

namespace {
// Onset of a response in target[from, to): the first sample above max(4 x the noise floor, 5 % of
// the window's peak), the floor being max |target| over the 0.2 s before `from`. -1 when the window
// holds no clear response (its peak not above 4 x the floor). With `crossing`, also where |target|
// crosses that threshold between the sample before and the onset (linear interpolation): a
// sub-sample position that moves with the signal, for the clock-drift fit.
long onsetIn(const std::vector<float>& target, std::size_t from, std::size_t to, double* crossing = nullptr) {
    to = std::min(to, target.size());
    if (from >= to) return -1;
    const std::size_t pre = std::min<std::size_t>(from, 9600);
    float floor = 0;
    for (std::size_t t = from - pre; t < from; ++t) floor = std::max(floor, std::fabs(target[t]));
    float peak = 0;
    for (std::size_t t = from; t < to; ++t) peak = std::max(peak, std::fabs(target[t]));
    if (!(peak > 4.0f * floor) || peak <= 1e-6f) return -1;
    const float thr = std::max(4.0f * floor, 0.05f * peak);
    for (std::size_t t = from; t < to; ++t)
        if (std::fabs(target[t]) > thr) {
            if (crossing) {
                *crossing = static_cast<double>(t);
                const double below = t > from ? std::fabs(target[t - 1]) : 0.0, above = std::fabs(target[t]);
                if (t > from && above > below) *crossing -= (above - thr) / (above - below);
            }
            return static_cast<long>(t);
        }
    return -1;
}

long median(std::vector<long> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
} // namespace

// The blips come in two groups of three, 0.5 s apart, in silence. A latency can exceed that spacing,
// so a blip's response is not looked for from the blip itself (it would find an earlier blip's):
//  1. the latency estimate L0 = onset of the target's first response after the first blip (the
//     capture signal is silent before it, so nothing earlier can answer), searched up to maxLatency;
//  2. each blip's onset within +-50 ms of b + L, widened by kMaxDriftPpm of the distance from the
//     first blip (room for a recorder's clock drifting against the playback: at 300 ppm the end blips
//     of the standard signal answer 51 ms late or early), for L = L0 and L0 less one or two blip
//     spacings (in case the first blip's reply was missing); a blip without a clear response there is
//     left out;
//  3. at least two of the start blips must agree within a sample plus what a kMaxDriftPpm clock
//     moves over one blip spacing (1 + 8 = 9 samples; a click or noise in the target that came first
//     does not), their median is the start latency; the end group's median, where two end blips
//     agree, gives the drift; the candidate whose blips agree most wins, and the latency reported is
//     the midpoint of start and end (half the drift at either end);
//  4. with both groups: a least-squares line lag = a + e b through the agreeing blips' sub-sample
//     onsets gives the drift ratio e and the line's a, to a few hundredths of a sample, for
//     removeClockDrift (whole-sample onsets would leave e 0.1 ppm off, a sample over the signal).
LatencyResult latencyFromBlips(const std::vector<float>& input, const std::vector<float>& target,
                               const std::vector<std::size_t>& blips, long maxLatency) {
    LatencyResult r;
    r.method = "blips";
    if (blips.empty() || blips.front() >= input.size() || maxLatency < 0) return r;
    const std::size_t b0 = blips.front();
    constexpr long kSlack = 2400;
    // 1. from the first blip on: the first sample above 4 x the noise floor before it, refined as
    //    onsetIn does over the 50 ms after it (a weak blip response is not measured against a later,
    //    louder part of the signal)
    if (b0 >= target.size()) return r;
    const auto driftRoom = [&](std::size_t at) { // samples a clock kMaxDriftPpm off moves by at `at`
        return static_cast<long>(std::ceil(kMaxDriftPpm * 1e-6 * static_cast<double>(at > b0 ? at - b0 : 0)));
    };
    float floor = 0;
    for (std::size_t t = b0 - std::min<std::size_t>(b0, 9600); t < b0; ++t) floor = std::max(floor, std::fabs(target[t]));
    const std::size_t last = std::min(target.size(), b0 + static_cast<std::size_t>(maxLatency) + 1);
    std::size_t t1 = b0;
    while (t1 < last && !(std::fabs(target[t1]) > std::max(4.0f * floor, 1e-6f))) ++t1;
    if (t1 >= last) return r;
    const long first = onsetIn(target, t1, t1 + static_cast<std::size_t>(kSlack));
    if (first < 0) return r;
    const long L0 = first - static_cast<long>(b0);
    // 2. every blip near b + L, for L = L0 and, should the first blip's reply have been missing (a
    //    gate, a device without treble), L0 less one or two blip spacings; the candidate that explains
    //    the most blips wins (a tie: the smaller latency). A wrong candidate explains at most the
    //    blips whose neighbours it mistakes for their replies.
    struct Blip {
        double at = 0, lag = 0; // input position, sub-sample lag
        long lagSamples = 0;
        bool start = true;
    };
    struct Measured {
        long start = 0, end = 0;
        std::size_t startAgree = 0, endAgree = 0, measured = 0;
        std::vector<Blip> agreeing; // the blips that agree with their group's median
        bool haveEnd = false;
    };
    const long spacing = blips.size() > 1 && blips[1] > blips[0] ? static_cast<long>(blips[1] - blips[0]) : 0;
    const long agree = 1 + driftRoom(b0 + static_cast<std::size_t>(spacing)); // within a group
    auto measure = [&](long L) {
        Measured m;
        std::vector<long> startLags, endLags;
        std::vector<Blip> found;
        for (std::size_t i = 0; i < blips.size(); ++i) {
            const long b = static_cast<long>(blips[i]);
            if (blips[i] >= input.size()) continue;
            const long slack = kSlack + driftRoom(blips[i]);
            const long from = std::max(0L, b + L - slack), to = b + L + slack;
            double crossing = 0;
            const long onset = onsetIn(target, static_cast<std::size_t>(from), static_cast<std::size_t>(to), &crossing);
            if (onset < 0) continue;
            (i < 3 ? startLags : endLags).push_back(onset - b);
            found.push_back({static_cast<double>(b), crossing - static_cast<double>(b), onset - b, i < 3});
        }
        m.measured = startLags.size() + endLags.size();
        if (startLags.empty()) return m;
        m.start = median(startLags);
        for (long l : startLags) m.startAgree += std::labs(l - m.start) <= agree ? 1 : 0;
        if (!endLags.empty()) {
            const long e = median(endLags);
            for (long l : endLags) m.endAgree += std::labs(l - e) <= agree ? 1 : 0;
            if (m.endAgree >= 2) { // the end group counts only when two of its blips agree
                m.end = e;
                m.haveEnd = true;
            }
        }
        for (const Blip& f : found)
            if (f.start ? std::labs(f.lagSamples - m.start) <= agree : (m.haveEnd && std::labs(f.lagSamples - m.end) <= agree))
                m.agreeing.push_back(f);
        return m;
    };
    Measured best;
    long bestScore = -1;
    for (int k = 2; k >= 0; --k) { // smaller latencies first: they win ties
        const long L = L0 - k * spacing;
        if (L < 0 || (k > 0 && spacing == 0)) continue;
        const Measured m = measure(L);
        const long score = static_cast<long>(m.startAgree + (m.haveEnd ? m.endAgree : 0));
        if (m.startAgree >= 2 && score > bestScore) {
            best = m;
            bestScore = score;
        }
    }
    if (bestScore < 0) return r;
    const long end = best.haveEnd ? best.end : best.start;
    r.samples = best.start + (end - best.start) / 2;
    r.driftSamples = end - best.start;
    r.endFound = best.haveEnd;
    r.lagAtZero = static_cast<double>(best.start); // without the end group: no drift known
    if (best.haveEnd) { // 4. the line through the agreeing blips, then again without those more than a
                        //    sample off it (a stray onset within the 9 samples), while two per group remain
        const auto fit = [&](const std::vector<Blip>& pts) {
            double mb = 0, ml = 0;
            for (const auto& f : pts) { mb += f.at; ml += f.lag; }
            mb /= static_cast<double>(pts.size());
            ml /= static_cast<double>(pts.size());
            double sbb = 0, sbl = 0;
            for (const auto& f : pts) { sbb += (f.at - mb) * (f.at - mb); sbl += (f.at - mb) * (f.lag - ml); }
            if (sbb > 0) {
                r.driftRatio = sbl / sbb;
                r.lagAtZero = ml - r.driftRatio * mb;
            }
        };
        std::vector<Blip> pts = best.agreeing;
        fit(pts);
        for (;;) { // drop the point farthest off the line while it is over a sample off, refit
            std::size_t worst = pts.size(), starts = 0;
            double worstOff = 1.0;
            for (std::size_t i = 0; i < pts.size(); ++i) {
                starts += pts[i].start ? 1 : 0;
                const double off = std::fabs(pts[i].lag - (r.lagAtZero + r.driftRatio * pts[i].at));
                if (off > worstOff) {
                    worstOff = off;
                    worst = i;
                }
            }
            if (worst == pts.size()) break;
            const std::size_t groupLeft = pts[worst].start ? starts - 1 : pts.size() - starts - 1;
            if (groupLeft < 2) break;
            pts.erase(pts.begin() + static_cast<long>(worst));
            fit(pts);
        }
    }
    r.confidence = static_cast<double>(bestScore) / static_cast<double>(std::max<std::size_t>(best.measured, 1));
    // in range at the start (with a recorder's clock running slow the end group's latency can be
    // below zero, and so the midpoint: removeClockDrift makes it the start's again)
    r.found = best.start >= 0 && best.start <= maxLatency;
    return r;
}

// corrected[k] = target at (1 + e) k, e = r.driftRatio, band-limited (libsamplerate's best sinc
// converter): a recorder whose clock ran e fast against the playback, slowed back down. Input sample
// x sits at target index T(x) = x + a + e x (the blips' line, a = r.lagAtZero); so corrected[k]
// answers input x = k - a / (1 + e): the threshold crossing of each blip's reply sits a / (1 + e)
// after its blip in the resampled target, and the latency is the first sample after that, ceil(a /
// (1 + e)): the first sample above the threshold, as the drift-free path measures it.
DriftRemoved removeClockDrift(const std::vector<float>& target, const LatencyResult& r) {
    const double e = r.driftRatio;
    DriftRemoved d;
    d.latency = r.samples;
    if (e == 0.0 || target.empty()) {
        d.target = target;
        return d;
    }
    if (!(std::fabs(e) <= 0.01))
        throw std::invalid_argument("removeClockDrift: a drift of " + std::to_string(std::lround(e * 1e6)) + " ppm is not a clock's");
    constexpr double rate = 48000.0; // any: only the ratio matters
    Resampler src(rate * (1.0 + e), rate, 1, ResamplerQuality::Best);
    const auto n = static_cast<std::size_t>(std::floor(static_cast<double>(target.size()) / (1.0 + e)));
    std::vector<float> out(n + 64); // (n) plus room for the converter's rounding
    std::size_t in = 0, made = 0;
    while (in < target.size() && made < out.size()) {
        const auto res = src.process(target.data() + in, target.size() - in, out.data() + made, out.size() - made);
        in += res.inputUsed;
        made += res.outputGenerated;
        if (res.inputUsed == 0 && res.outputGenerated == 0) break;
    }
    while (made < out.size()) {
        const std::size_t k = src.flush(out.data() + made, out.size() - made);
        if (k == 0) break;
        made += k;
    }
    if (*src.lastError()) throw std::runtime_error(std::string("removeClockDrift: ") + src.lastError());
    out.resize(std::min(made, n));
    d.target = std::move(out);
    // (less a quarter sample: the fit's error, a few hundredths, must not make it a sample too many,
    // the target early, which a causal model cannot learn; a sample too few it can)
    d.latency = static_cast<long>(std::ceil(r.lagAtZero / (1.0 + e) - 0.25));
    return d;
}

} // namespace mfx::train
