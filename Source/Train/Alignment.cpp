#include "Alignment.h"

#include "../Dsp/Resampler.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace mfx::train {

namespace {
std::string fmt(double v, int prec = 1) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(prec);
    s << v;
    return s.str();
}

// Levinson recursion: solves T x = b for the symmetric Toeplitz matrix T with first row `t`.
// Returns false if it breaks down (singular leading minor).
bool solveToeplitz(const std::vector<double>& t, const std::vector<double>& b, std::vector<double>& x) {
    const std::size_t n = t.size();
    std::vector<double> f(n, 0.0), fNew(n, 0.0); // forward vector (the backward one is its reverse)
    x.assign(n, 0.0);
    f[0] = 1.0 / t[0];
    x[0] = b[0] / t[0];
    for (std::size_t k = 1; k < n; ++k) {
        double ef = 0; // error of extending f
        for (std::size_t i = 0; i < k; ++i) ef += t[k - i] * f[i];
        const double denom = 1.0 - ef * ef;
        if (std::fabs(denom) < 1e-12) return false;
        for (std::size_t i = 0; i <= k; ++i) {
            const double fi = i < k ? f[i] : 0.0;
            const double bi = i > 0 ? f[k - i] : 0.0; // backward vector = reversed forward (symmetric T)
            fNew[i] = (fi - ef * bi) / denom;
        }
        std::copy(fNew.begin(), fNew.begin() + static_cast<long>(k + 1), f.begin());
        double ex = 0; // error of extending x
        for (std::size_t i = 0; i < k; ++i) ex += t[k - i] * x[i];
        const double g = b[k] - ex;
        for (std::size_t i = 0; i <= k; ++i) x[i] += g * f[k - i]; // add g * backward vector
    }
    return true;
}

} // namespace

double peakDb(const std::vector<float>& x) {
    float pk = 0;
    for (float v : x) pk = std::max(pk, std::fabs(v));
    return pk > 0 ? 20.0 * std::log10(static_cast<double>(pk)) : -INFINITY;
}

double rmsDb(const std::vector<float>& x) {
    double s = 0;
    for (float v : x) s += static_cast<double>(v) * v;
    return s > 0 ? 10.0 * std::log10(s / static_cast<double>(x.size())) : -INFINITY;
}

std::size_t clippedSamples(const std::vector<float>& x) {
    float pk = 0;
    for (float v : x) pk = std::max(pk, std::fabs(v));
    if (pk <= 0) return 0;
    const float level = 0.999f * std::min(pk, 1.0f);
    std::size_t count = 0, run = 0;
    for (std::size_t i = 0; i <= x.size(); ++i) {
        if (i < x.size() && std::fabs(x[i]) >= level) {
            ++run;
        } else {
            if (run >= 3) count += run;
            run = 0;
        }
    }
    return count;
}

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
    if (best.haveEnd) { // 4. the line through the agreeing blips
        double mb = 0, ml = 0;
        for (const auto& f : best.agreeing) { mb += f.at; ml += f.lag; }
        mb /= static_cast<double>(best.agreeing.size());
        ml /= static_cast<double>(best.agreeing.size());
        double sbb = 0, sbl = 0;
        for (const auto& f : best.agreeing) { sbb += (f.at - mb) * (f.at - mb); sbl += (f.at - mb) * (f.lag - ml); }
        if (sbb > 0) {
            r.driftRatio = sbl / sbb;
            r.lagAtZero = ml - r.driftRatio * mb;
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
// answers input x = k - a / (1 + e): the latency is a / (1 + e), rounded to a sample. The blips'
// sub-sample onsets are threshold crossings, which come up to two samples before the first sample
// above the threshold (the whole-sample onset of the drift-free path): the target then ends up a
// sample or two late, which a causal model learns (a delay), never early, which it could not.
DriftRemoved removeClockDrift(const std::vector<float>& target, const LatencyResult& r) {
    const double e = r.driftRatio;
    DriftRemoved d;
    d.latency = r.samples;
    if (e == 0.0 || target.empty()) {
        d.target = target;
        return d;
    }
    if (!(std::fabs(e) <= 0.01))
        throw std::invalid_argument("removeClockDrift: a drift of " + fmt(e * 1e6, 0) + " ppm is not a clock's");
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
    d.latency = std::lround(r.lagAtZero / (1.0 + e));
    return d;
}

// c(lag) = sum_t x[t] y[t + lag] over the loudest windows; the lag with the largest |c| / sqrt(Ex Ey).
LatencyResult latencyByCrossCorrelation(const std::vector<float>& input, const std::vector<float>& target, long maxLatency) {
    LatencyResult r;
    r.method = "cross-correlation";
    const std::size_t n = std::min(input.size(), target.size());
    const std::size_t win = 8192;
    const long minLag = -std::max<long>(maxLatency / 8, 64);
    if (n < win + static_cast<std::size_t>(maxLatency) + static_cast<std::size_t>(-minLag) + 1) return r;
    // The 4 loudest non-overlapping windows of the input (energy), away from the edges.
    std::vector<std::pair<double, std::size_t>> energy;
    for (std::size_t s = static_cast<std::size_t>(-minLag); s + win + static_cast<std::size_t>(maxLatency) < n; s += win) {
        double e = 0;
        for (std::size_t t = s; t < s + win; ++t) e += static_cast<double>(input[t]) * input[t];
        energy.push_back({e, s});
    }
    std::sort(energy.rbegin(), energy.rend());
    energy.resize(std::min<std::size_t>(energy.size(), 4));
    std::vector<double> c(static_cast<std::size_t>(maxLatency - minLag + 1), 0.0);
    double ex = 0;
    for (const auto& [e, s] : energy) {
        ex += e;
        for (long lag = minLag; lag <= maxLatency; ++lag) {
            const float* y = target.data() + static_cast<long>(s) + lag;
            const float* x = input.data() + s;
            double acc = 0;
            for (std::size_t t = 0; t < win; ++t) acc += static_cast<double>(x[t]) * y[t];
            c[static_cast<std::size_t>(lag - minLag)] += acc;
        }
    }
    std::size_t best = 0;
    for (std::size_t i = 1; i < c.size(); ++i)
        if (std::fabs(c[i]) > std::fabs(c[best])) best = i;
    const long lag = static_cast<long>(best) + minLag;
    double ey = 0;
    for (const auto& [e, s] : energy)
        for (std::size_t t = 0; t < win; ++t) {
            const double v = target[static_cast<std::size_t>(static_cast<long>(s + t) + lag)];
            ey += v * v;
        }
    r.confidence = ex > 0 && ey > 0 ? std::fabs(c[best]) / std::sqrt(ex * ey) : 0.0;
    r.found = r.confidence > 0.05;
    // The peak is where the device's response is largest, not where it starts (a filter or a cabinet
    // peaks later). Refine to the onset of the best linear impulse response over the lags
    // [peak - 2048, peak + 64): solve the Toeplitz normal equations a * h = c (Levinson), then take
    // the first tap above 10 % of the largest.
    const long lo = std::max(0L, lag - 2048);
    const long hi = std::min(maxLatency, lag + 64);
    if (lag < 0 || hi < lo) { r.samples = lag; return r; }
    const std::size_t K = static_cast<std::size_t>(hi - lo + 1);
    std::vector<double> a(K, 0.0); // autocorrelation of the input over the same windows
    for (const auto& [e, s] : energy)
        for (std::size_t m = 0; m < K; ++m) {
            double acc = 0;
            for (std::size_t t = 0; t < win; ++t) acc += static_cast<double>(input[s + t]) * input[s + t + m];
            a[m] += acc;
        }
    a[0] *= 1.01; // light diagonal loading: band-limited inputs make the system ill-conditioned
    std::vector<double> rhs(K), h;
    for (std::size_t k = 0; k < K; ++k) rhs[k] = c[static_cast<std::size_t>(lo - minLag) + k];
    if (a[0] > 0 && solveToeplitz(a, rhs, h)) {
        double mx = 0;
        for (double v : h) mx = std::max(mx, std::fabs(v));
        for (std::size_t k = 0; k < K; ++k)
            if (std::fabs(h[k]) > 0.1 * mx) {
                r.samples = lo + static_cast<long>(k);
                return r;
            }
    }
    r.samples = lag;
    return r;
}

PairCheck checkPair(const std::vector<float>& input, const std::vector<float>& target, const std::string& label) {
    PairCheck c;
    const double inPk = peakDb(input), tgPk = peakDb(target);
    if (!std::isfinite(inPk) || inPk < -80.0)
        c.errors.push_back("the input paired with " + label + " is silent (peak " + fmt(inPk) +
                           " dBFS); use the file you played into the device (e.g. from `mambafx capture-signal`)");
    if (!std::isfinite(tgPk) || tgPk < -60.0)
        c.errors.push_back(label + ": the target is silent (peak " + (std::isfinite(tgPk) ? fmt(tgPk) : std::string("-inf")) +
                           " dBFS); check the recording chain (input selected, device powered, levels up) and record again");
    if (!c.errors.empty()) return c;
    const std::size_t clipT = clippedSamples(target), clipI = clippedSamples(input);
    const double fracT = static_cast<double>(clipT) / static_cast<double>(target.size());
    if (fracT > 1e-4) {
        // At full scale the recording chain clipped (the interface or the file); below it, flat tops are
        // more likely the device's own hard clipping, which lowering the recording level cannot change.
        const std::string head = label + ": the target is clipped (" + std::to_string(clipT) + " samples, " + fmt(100.0 * fracT, 2) +
                                 " %, in flat runs at " + fmt(tgPk, 2) + " dBFS)";
        if (tgPk > -0.1)
            c.errors.push_back(head + ", at full scale: the recording clipped; lower the recording level (e.g. by 6 dB) and "
                                      "record again (or pass --allow-clipping to train on it anyway)");
        else
            c.errors.push_back(head + ", below full scale: a device that hard-clips (a clipper, a fuzz) does this itself; "
                                      "if that is its sound, pass --allow-clipping; if something in the recording chain "
                                      "clips, lower the level before it and record again");
    }
    else if (clipT > 0)
        c.warnings.push_back(label + ": " + std::to_string(clipT) + " clipped samples in the target");
    if (clipI > 0)
        c.warnings.push_back(label + ": the input has " + std::to_string(clipI) +
                             " clipped samples; the model learns what the device did with a clipped signal");
    if (tgPk < -30.0)
        c.warnings.push_back(label + ": the target is quiet (peak " + fmt(tgPk) + " dBFS); raise the recording level for a better capture");
    if (inPk < -30.0)
        c.warnings.push_back("the input paired with " + label + " is quiet (peak " + fmt(inPk) + " dBFS); the model will only know low input levels");
    // Does the target follow the input at all? Envelope correlation (50 ms blocks, dB) after alignment.
    const std::size_t blk = 2400, nb = std::min(input.size(), target.size()) / blk;
    if (nb >= 8) {
        std::vector<double> a(nb), b(nb);
        for (std::size_t i = 0; i < nb; ++i) {
            double ea = 0, eb = 0;
            for (std::size_t t = i * blk; t < (i + 1) * blk; ++t) {
                ea += static_cast<double>(input[t]) * input[t];
                eb += static_cast<double>(target[t]) * target[t];
            }
            a[i] = 10 * std::log10(ea / blk + 1e-10);
            b[i] = 10 * std::log10(eb / blk + 1e-10);
        }
        double ma = 0, mb = 0;
        for (std::size_t i = 0; i < nb; ++i) { ma += a[i]; mb += b[i]; }
        ma /= static_cast<double>(nb);
        mb /= static_cast<double>(nb);
        double sab = 0, saa = 0, sbb = 0;
        for (std::size_t i = 0; i < nb; ++i) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        const double corr = saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
        if (corr < 0.3)
            c.warnings.push_back(label + ": the target's loudness does not follow the input's (envelope correlation " + fmt(corr, 2) +
                                 "); is it really a recording of this input?");
    }
    return c;
}

} // namespace mfx::train
