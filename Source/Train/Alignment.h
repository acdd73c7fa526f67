#pragma once
// Preparing a recorded capture for training: finding the recording's latency (from calibration
// blips, or by cross-correlation when there are none), and checking the pair for problems
// (silence, clipping, low level, a target that does not match the input).
#include <cstddef>
#include <string>
#include <vector>

namespace mfx::train {

struct LatencyResult {
    long samples = 0;            // target[t + samples] lines up with input[t] (blips with drift: the
                                 // midpoint of start and end, below zero for a slow clock's recording
                                 // even when found; removeClockDrift gives the one latency then)
    std::string method;          // "blips" or "cross-correlation"
    double confidence = 0;       // blips: agreement of the blips (1 = all equal); xcorr: normalised peak
    long driftSamples = 0;       // blips only: end-blip latency minus start-blip latency
    double driftRatio = 0;       // blips only: driftSamples per input sample between the two groups
                                 // (1e-4: the recorder's clock runs 100 ppm fast); 0 without end blips
    double lagAtZero = 0;        // blips only: the line lag = lagAtZero + driftRatio * position through
                                 // the agreeing blips' sub-sample onsets (the start latency without end blips)
    bool endFound = false;       // blips only: the end group answered (drift measured)
    bool found = false;
};

// The largest clock drift between playback and recorder the blip search allows for (a crystal is
// within about +-100 ppm, so two devices within 200).
inline constexpr double kMaxDriftPpm = 300;

// Latency from the calibration blips at `blips` (sample positions in the input, see CaptureSignal),
// up to maxLatency (which may exceed the blips' 0.5 s spacing): the target's first response after the
// first blip gives an estimate, each blip's onset near it the measurement (BlipAlignment.cpp); found when
// two start blips agree. samples = the midpoint of the start and end groups' latencies.
LatencyResult latencyFromBlips(const std::vector<float>& input, const std::vector<float>& target,
                               const std::vector<std::size_t>& blips, long maxLatency);

// The target resampled so that a recorder's clock drift (r.driftRatio, from latencyFromBlips) is
// gone: target[(1 + driftRatio) k], band-limited, with the latency that is then the same throughout
// (computed from the start group's measurement, not measured again: a band-limited blip reply rings
// before its onset, which would move an onset search by a few samples). Throws
// std::invalid_argument beyond 1 % (no clock drifts that far).
struct DriftRemoved {
    std::vector<float> target; // (about target.size() / (1 + driftRatio))
    long latency = 0;          // target[k + latency] lines up with input[k]
};
DriftRemoved removeClockDrift(const std::vector<float>& target, const LatencyResult& r);

// Latency by cross-correlation over lags 0..maxLatency (and down to -maxLatency/8, reported as an
// error by the caller), on the loudest windows of the input. Exact for a delayed copy of a filtered
// or distorted input whose response peaks at its start.
LatencyResult latencyByCrossCorrelation(const std::vector<float>& input, const std::vector<float>& target, long maxLatency);

struct PairCheck {
    std::vector<std::string> errors;   // training cannot go on (message says what to do)
    std::vector<std::string> warnings; // it can, but the result may suffer
};

// Checks of one aligned input/target pair (already trimmed to the same length). `label` names the pair.
PairCheck checkPair(const std::vector<float>& input, const std::vector<float>& target, const std::string& label);

double peakDb(const std::vector<float>& x);
double rmsDb(const std::vector<float>& x);
// Samples in runs of >= 3 consecutive samples at >= 0.999 of full scale (or of the file's own peak
// when it is flat-topped below full scale).
std::size_t clippedSamples(const std::vector<float>& x);

} // namespace mfx::train
