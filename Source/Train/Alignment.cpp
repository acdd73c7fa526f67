#include "Alignment.h"

#include <algorithm>
#include <cmath>
#include <sstream>

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
