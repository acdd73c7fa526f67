#pragma once
// The standard reamp signal of `mambafx capture-signal`: deterministic (same samples every time),
// 48 kHz mono, with a documented layout (docs/MODELS.md). The trainer recognises it by regenerating
// it and comparing, and then uses its training and validation regions.
#include <cstddef>
#include <string>
#include <vector>

namespace mfx::train {

struct CaptureRegion {
    std::string name;     // "blips", "sweeps", "noise", "plucks", "strums", "ramps", "validation", ...
    std::size_t begin = 0; // first sample
    std::size_t end = 0;   // one past the last sample
    std::string what;      // one line for the docs / `--help`
};

struct CaptureSignal {
    double sampleRate = 48000.0;
    std::vector<float> samples;         // (n)
    std::vector<CaptureRegion> regions; // in time order, covering every sample
    std::vector<std::size_t> blips;     // sample index of each calibration blip (3 at the start, 3 at the end)
    std::size_t trainBegin = 0, trainEnd = 0; // the training part
    std::size_t valBegin = 0, valEnd = 0;     // the validation part
};

// The signal at 48 kHz (about 3 minutes).
CaptureSignal makeCaptureSignal();

// True if `input` is the standard capture signal (same length, samples equal within 24-bit rounding).
bool isCaptureSignal(const std::vector<float>& input, const CaptureSignal& reference);

} // namespace mfx::train
