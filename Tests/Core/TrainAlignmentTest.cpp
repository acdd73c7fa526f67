// Latency detection (blips and cross-correlation), the pair checks, and the capture signal's layout.
#include "TrainSignals.h"
#include "Train/Alignment.h"
#include "Train/CaptureSignal.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace mfx::train;

namespace {
// tanh drive into a one-pole low-pass, delayed by `delay` samples, plus a little noise.
std::vector<float> device(const std::vector<float>& x, std::size_t delay, double drive = 5.0) {
    std::vector<float> y(x.size() + delay, 0.0f);
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0.0f, 1e-4f);
    double s = 0;
    for (std::size_t t = 0; t < x.size(); ++t) {
        s = 0.6 * s + 0.4 * 0.5 * std::tanh(drive * x[t]);
        y[t + delay] = static_cast<float>(s);
    }
    for (auto& v : y) v += n(rng);
    return y;
}
} // namespace

TEST_CASE("Capture signal: deterministic, documented layout, no clipping", "[train]") {
    const CaptureSignal a = makeCaptureSignal(), b = makeCaptureSignal();
    REQUIRE(a.samples == b.samples);
    CHECK(a.samples.size() > 48000u * 150u); // a few minutes
    CHECK(a.samples.size() < 48000u * 240u);
    std::size_t at = 0;
    for (const auto& r : a.regions) {
        CHECK(r.begin == at); // regions tile the signal in order
        at = r.end;
    }
    CHECK(at == a.samples.size());
    CHECK(a.blips.size() == 6);
    CHECK(a.trainEnd <= a.valBegin);
    CHECK(a.valEnd - a.valBegin > 48000u * 20u);
    CHECK(peakDb(a.samples) <= -0.99);
    CHECK(clippedSamples(a.samples) == 0);
    CHECK(isCaptureSignal(a.samples, b));
    auto c = a.samples;
    c[1000] += 0.01f;
    CHECK_FALSE(isCaptureSignal(c, a));
}

TEST_CASE("Latency: exact from the blips, with drift reported", "[train]") {
    const CaptureSignal cs = makeCaptureSignal();
    // Also latencies beyond the blips' 0.5 s spacing (a DAW's pre-roll): 0.6, 0.8, 1.2 and 2 s were
    // once found as 0.1, 0.3, 0.2 and 0.5 s, the reply to another blip.
    for (std::size_t delay : {0u, 3u, 128u, 1001u, 9000u, 23999u, 24000u, 28800u, 38400u, 57600u, 96000u}) {
        const auto y = device(cs.samples, delay);
        const auto r = latencyFromBlips(cs.samples, y, cs.blips, 480000);
        INFO("delay " << delay);
        REQUIRE(r.found);
        CHECK(r.samples == static_cast<long>(delay));
        CHECK(r.driftSamples == 0);
        CHECK(r.confidence == 1.0);
    }
    // A recorder running fast (more samples per second): the end blips arrive 5 samples later than the start blips.
    auto y = device(cs.samples, 100);
    std::vector<float> drifted(y.size() + 5, 0.0f);
    const std::size_t cut = cs.valEnd;
    std::copy(y.begin(), y.begin() + static_cast<long>(cut), drifted.begin());
    std::copy(y.begin() + static_cast<long>(cut), y.end(), drifted.begin() + static_cast<long>(cut) + 5);
    const auto r = latencyFromBlips(cs.samples, drifted, cs.blips, 24000);
    CHECK(r.driftSamples == 5);
    CHECK(r.samples == 102); // the midpoint of 100 and 105
    // Beyond the limit given: not found (not some other blip's reply)
    const auto far = latencyFromBlips(cs.samples, device(cs.samples, 28800), cs.blips, 24000);
    CHECK_FALSE(far.found);
    // A click in the target before the first blip's reply misleads the estimate, but not the
    // measurement: the other two start blips agree on the true latency (their windows of +-50 ms
    // around the estimate hold their replies)
    auto clicked = device(cs.samples, 500);
    clicked[cs.blips[0] + 100] = 0.3f;
    const auto c = latencyFromBlips(cs.samples, clicked, cs.blips, 24000);
    CHECK(c.found);
    CHECK(c.samples == 500);
    // The first blip's reply missing (a gate, a device without treble) in a target 1 s longer than the
    // input: the estimate takes the second blip's reply, but the latency explaining the most blips is
    // the true one (it was once found a blip spacing late, 24,102 for 100)
    auto muted = device(cs.samples, 100);
    muted.resize(muted.size() + 48000, 0.0f);
    for (std::size_t t = cs.blips[0] + 50; t < cs.blips[0] + 2000; ++t) muted[t] = 0.0f;
    const auto m = latencyFromBlips(cs.samples, muted, cs.blips, 48000 + 2400);
    CHECK(m.found);
    CHECK(m.samples == 100);
    CHECK(m.driftSamples == 0);
    // One spurious onset near an end blip: the end group's two others decide, no false drift
    auto spurious = device(cs.samples, 100);
    spurious[cs.blips[4] + 100 - 300] = 0.3f;
    const auto sp = latencyFromBlips(cs.samples, spurious, cs.blips, 24000);
    CHECK(sp.found);
    CHECK(sp.samples == 100);
    CHECK(sp.driftSamples == 0);
}

TEST_CASE("Latency: a recorder's clock drift is measured from the blips and removed by resampling", "[train]") {
    const CaptureSignal cs = makeCaptureSignal();
    const auto y = device(cs.samples, 300);
    for (const double ppm : {100.0, -250.0}) {
        INFO(ppm << " ppm");
        const auto rec = mfx::traintest::stretched(y, 1.0 + ppm * 1e-6);
        const auto r = latencyFromBlips(cs.samples, rec, cs.blips, 24000);
        REQUIRE(r.found);
        // the groups' middle blips are 168.5 s apart: 100 ppm is 809 samples of drift there
        const double span = static_cast<double>(cs.blips[4] - cs.blips[1]);
        CHECK(r.driftSamples == Approx(ppm * 1e-6 * span).margin(3));
        // the start group's latency (its middle blip's, drifted already) plus half the drift
        const double start = 300 + ppm * 1e-6 * static_cast<double>(cs.blips[1] + 300);
        CHECK(static_cast<double>(r.samples) == Approx(start + r.driftSamples / 2).margin(2));
        CHECK(r.endFound);
        // the blips' line lag = a + e b: the true one is 300 (1 + e) + e b; the sub-sample onsets
        // (threshold crossings) come before the first sample above the threshold, by up to two
        // samples here (the test's linear-interpolation stretch smears each reply's first sample)
        const double trueA = 300 * (1 + ppm * 1e-6);
        CHECK(r.lagAtZero <= trueA + 0.25);
        CHECK(r.lagAtZero >= trueA - 2.0);
        CHECK(r.driftRatio * 1e6 == Approx(ppm).margin(0.03)); // 0.03 ppm: a quarter sample over the signal
        // resampled: the latency is 300 all through, and the recording is the device's output again
        // (to the test's own linear-interpolation stretch; a drift left in would put the end 400
        // samples off, an ESR near 2)
        const auto fixedRec = removeClockDrift(rec, r);
        CHECK(fixedRec.latency <= 300);
        CHECK(fixedRec.latency >= 298);
        CHECK(fixedRec.target.size() == Approx(static_cast<double>(rec.size()) / (1.0 + r.driftRatio)).margin(2));
        // the lag that lines the lined-up recording up best with the device's own output, over a
        // second of the noise bursts near the start and one of the validation plucks near the end:
        // the same at both, within a sample (the drift left in would make it 400 samples at each end)
        const auto clean = device(cs.samples, 0);
        std::vector<long> lags;
        for (const std::size_t from : {std::size_t{30 * 48000}, std::size_t{150 * 48000}}) {
            long bestLag = 99;
            double bestC = -1e30;
            for (long lag = -8; lag <= 8; ++lag) {
                double c = 0;
                for (std::size_t k = from; k < from + 48000; ++k)
                    c += static_cast<double>(fixedRec.target[static_cast<std::size_t>(static_cast<long>(k) + fixedRec.latency + lag)]) * clean[k];
                if (c > bestC) {
                    bestC = c;
                    bestLag = lag;
                }
            }
            INFO("second from sample " << from);
            CHECK(std::labs(bestLag) <= 1);
            lags.push_back(bestLag);
        }
        CHECK(lags.front() == lags.back()); // no drift left
    }
    {   // a click 6 samples before one start blip's reply: within the group's 9 samples, so it
        // agrees, but it is more than a sample off the line: refitted without it
        const auto rec = mfx::traintest::stretched(y, 1.0001);
        auto clicked = rec;
        clicked[cs.blips[1] + 299] = 0.3f;
        const auto r = latencyFromBlips(cs.samples, clicked, cs.blips, 24000);
        REQUIRE(r.found);
        CHECK(r.driftRatio * 1e6 == Approx(100).margin(0.03));
        const auto fixedRec = removeClockDrift(clicked, r);
        CHECK(fixedRec.latency <= 300);
        CHECK(fixedRec.latency >= 298);
    }
    LatencyResult none;
    none.samples = 300;
    const auto same = removeClockDrift(y, none);
    CHECK(same.target == y);
    CHECK(same.latency == 300);
    LatencyResult far;
    far.driftRatio = 0.02;
    CHECK_THROWS_AS(removeClockDrift(y, far), std::invalid_argument);
}

TEST_CASE("Latency: exact by cross-correlation for material without blips", "[train]") {
    std::mt19937 rng(4);
    std::normal_distribution<float> g(0.0f, 0.2f);
    std::vector<float> x(48000 * 4);
    for (auto& v : x) v = g(rng);
    for (std::size_t delay : {0u, 1u, 61u, 480u, 4000u}) {
        const auto r = latencyByCrossCorrelation(x, device(x, delay), 24000);
        INFO("delay " << delay);
        REQUIRE(r.found);
        CHECK(r.samples == static_cast<long>(delay));
    }
    // Unrelated noise: not found.
    std::vector<float> other(x.size());
    for (auto& v : other) v = g(rng);
    CHECK_FALSE(latencyByCrossCorrelation(x, other, 24000).found);
}

TEST_CASE("Pair checks: silent, clipped, quiet, unrelated", "[train]") {
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0.0f, 0.2f);
    std::vector<float> x(48000 * 3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = g(rng) * static_cast<float>(0.5 + 0.5 * std::sin(i * 1e-4));
    const auto y = device(x, 0);
    CHECK(checkPair(x, y, "ok").errors.empty());
    CHECK(checkPair(x, std::vector<float>(x.size(), 0.0f), "s").errors.at(0).find("target is silent") != std::string::npos);
    auto clipped = y;
    for (auto& v : clipped) v = std::clamp(v * 8.0f, -1.0f, 1.0f);
    CHECK(checkPair(x, clipped, "c").errors.at(0).find("target is clipped") != std::string::npos);
    CHECK(checkPair(x, clipped, "c").errors.at(0).find("at full scale: the recording clipped") != std::string::npos);
    // flat tops below full scale: the device's own clipping is named, with --allow-clipping
    auto hard = y;
    for (auto& v : hard) v = std::clamp(v * 8.0f, -0.4f, 0.4f);
    const auto device = checkPair(x, hard, "d").errors.at(0);
    CHECK(device.find("below full scale") != std::string::npos);
    CHECK(device.find("--allow-clipping") != std::string::npos);
    auto quiet = y;
    for (auto& v : quiet) v *= 0.01f;
    const auto q = checkPair(x, quiet, "q");
    CHECK(q.errors.empty());
    CHECK(q.warnings.at(0).find("quiet") != std::string::npos);
    std::vector<float> unrelated(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) unrelated[i] = 0.3f * g(rng) * static_cast<float>(0.5 + 0.5 * std::cos(i * 3.1e-4));
    const auto u = checkPair(x, unrelated, "u");
    bool warned = false;
    for (const auto& w : u.warnings) warned = warned || w.find("does not follow") != std::string::npos;
    CHECK(warned);
}
