// `mambafx train` lining up recordings of the capture signal: the latency of a delayed recording is
// found exactly from the blips; a recorder on its own clock is resampled into line and warned about;
// a drift no clock has, or no reply to the end blips, is said so.
#include <train/TrainData.h>

#include <Train/CaptureSignal.h>
#include "../Core/TrainSignals.h"

#include <sndfile.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

using namespace mfx;
namespace fs = std::filesystem;

#include "TrainAppSupport.h"

using namespace mfx::trainapptest;

TEST_CASE("train: the latency of a recorded capture signal is found exactly from its blips", "[train]") {
    TempDir dir;
    const auto cs = mfx::train::makeCaptureSignal();
    writeWav(dir.file("capture.wav"), cs.samples);
    // 28,800: 0.6 s, more than the blips' spacing and the cross-correlation's 500 ms (a DAW's pre-roll)
    for (std::size_t delay : {0u, 1u, 137u, 2401u, 28800u}) {
        writeWav(dir.file("rec.wav"), device(cs.samples, 5.0, delay));
        const auto data = apps::train::prepareData(dir.file("capture.wav"), {apps::train::parseTargetSpec(dir.file("rec.wav"))}, {});
        CHECK(data.standardSignal);
        REQUIRE(data.latencies.size() == 1);
        CHECK(data.latencies[0] == static_cast<long>(delay));
        CHECK_THAT(data.latencyNotes[0], Catch::Contains("from the calibration blips"));
        // The validation part is the documented one.
        CHECK(data.val[0].input.size() == cs.valEnd - cs.valBegin);
    }
}

TEST_CASE("train: a recording whose clock drifts is lined up by resampling, and warned about", "[train]") {
    // 100 ppm (two USB interfaces on their own clocks can do that): the end blips' replies are 809
    // samples (17 ms) later than the start blips'. That once sent the latency to cross-correlation
    // (467 samples here, not 300), then the run learned nothing; now the drift is measured and
    // resampled away.
    TempDir dir;
    const auto cs = mfx::train::makeCaptureSignal();
    writeWav(dir.file("capture.wav"), cs.samples);
    const auto y = device(cs.samples, 5.0, 300);
    writeWav(dir.file("drift.wav"), mfx::traintest::stretched(y, 1.0001));
    const auto data = apps::train::prepareData(dir.file("capture.wav"), {apps::train::parseTargetSpec(dir.file("drift.wav"))}, {});
    REQUIRE(data.latencyNotes.size() == 1);
    INFO(data.latencyNotes[0]);
    std::string warnings;
    for (const auto& w : data.warnings) warnings += w + "\n";
    INFO(warnings);
    CHECK_THAT(data.latencyNotes[0], Catch::Contains("from the calibration blips after removing a clock drift of 100.") &&
                                         Catch::Contains(" ppm; removed"));
    REQUIRE(data.latencies.size() == 1);
    CHECK(std::labs(data.latencies[0] - 300) <= 1);
    CHECK_THAT(warnings, Catch::Contains("drift.wav: the recording's clock runs 100.") && Catch::Contains("ppm fast") &&
                             Catch::Contains("resampled by that ratio to remove it") && Catch::Contains("same clock"));
    // The validation pair lines up with the device's own output all through (a drift left in would
    // put its end 400 samples off, an ESR near 2).
    REQUIRE(data.val.size() == 1);
    const auto& v = data.val[0];
    const auto clean = device(cs.samples, 5.0, 0);
    double num = 0, den = 0;
    for (std::size_t k = 0; k < v.target.size(); ++k) {
        const double e = static_cast<double>(v.target[k]) - clean[cs.valBegin + k];
        num += e * e;
        den += static_cast<double>(clean[cs.valBegin + k]) * clean[cs.valBegin + k];
    }
    INFO("ESR of the lined-up validation target against the device's output: " << num / den);
    CHECK(num / den <= 0.05);

    // 1,000 ppm is no clock's drift (an edit, a wrong rate): the blips do not line up, the latency
    // comes from cross-correlation, and the warning says why that matters
    writeWav(dir.file("cut.wav"), mfx::traintest::stretched(y, 1.001));
    const auto cut = apps::train::prepareData(dir.file("capture.wav"), {apps::train::parseTargetSpec(dir.file("cut.wav"))}, {});
    REQUIRE(cut.latencyNotes.size() == 1);
    CHECK_THAT(cut.latencyNotes[0], Catch::Contains("by cross-correlation"));
    std::string cutWarnings;
    for (const auto& w : cut.warnings) cutWarnings += w + "\n";
    CHECK_THAT(cutWarnings, Catch::Contains("cut.wav: the calibration blips of the capture signal do not line up") &&
                                Catch::Contains("more than about 400 ppm") && Catch::Contains("same clock"));

    // no reply to the end blips (a recording stopped early, a gate): drift cannot be checked, said so
    auto endless = y;
    std::fill(endless.begin() + static_cast<long>(cs.blips[3]), endless.end(), 0.0f);
    writeWav(dir.file("endless.wav"), endless);
    const auto noEnd = apps::train::prepareData(dir.file("capture.wav"), {apps::train::parseTargetSpec(dir.file("endless.wav"))}, {});
    REQUIRE(noEnd.latencies.size() == 1);
    CHECK(noEnd.latencies[0] == 300);
    std::string noEndWarnings;
    for (const auto& w : noEnd.warnings) noEndWarnings += w + "\n";
    CHECK_THAT(noEndWarnings, Catch::Contains("endless.wav: the end blips' replies were not found") &&
                                  Catch::Contains("clock drift could not be checked"));
}
