#pragma once
// Streaming sample-rate conversion (libsamplerate's band-limited sinc converters) for whole files and
// for real-time use.
//
// Contract:
//  - The constructor allocates everything (libsamplerate's state, a small scratch) and measures the
//    converter's latency; it throws std::invalid_argument for a bad rate or channel count.
//  - process()/flush()/reset() never allocate, lock, throw, do I/O or log.
//  - Time alignment: output frame k is the input signal at time k / outRate (the sinc converters put
//    zeros before the first input frame; there is no time shift). What the converter does have is a
//    delivery delay: it holds back the last latencyOutputFrames() output frames until the input to
//    their right has arrived (half the sinc filter). A file converter recovers them with flush() at the
//    end, so input and output are time-aligned and have the same duration; a real-time user reports
//    latencyOutputFrames() to its host.
//  - Audio is interleaved: one frame = `channels` floats.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mfx {

// libsamplerate's sinc converters (SRC_SINC_BEST_QUALITY, _MEDIUM_QUALITY, _FASTEST). The linear and
// zero-order-hold converters are left out on purpose: they shift the signal by one input frame.
enum class ResamplerQuality { Best, Medium, Fast };

std::optional<ResamplerQuality> parseResamplerQuality(std::string_view name); // "best" | "medium" | "fast"
const char* toString(ResamplerQuality quality);

class Resampler {
public:
    struct Result {
        std::size_t inputUsed = 0;       // frames consumed from `in`
        std::size_t outputGenerated = 0; // frames written to `out`
    };

    // Converts `channels` interleaved channels from inRate to outRate (ratio within 1/256 .. 256).
    Resampler(double inRate, double outRate, int channels, ResamplerQuality quality = ResamplerQuality::Best);
    ~Resampler();
    Resampler(const Resampler&) = delete;
    Resampler& operator=(const Resampler&) = delete;

    double inRate() const noexcept { return inRate_; }
    double outRate() const noexcept { return outRate_; }
    double ratio() const noexcept { return outRate_ / inRate_; }
    int channels() const noexcept { return channels_; }
    ResamplerQuality quality() const noexcept { return quality_; }

    // Output frames held back by the converter (measured at construction). Equivalent to
    // latencyOutputFrames() / ratio() input frames.
    int latencyOutputFrames() const noexcept { return latencyOutputFrames_; }
    double latencyInputFrames() const noexcept { return latencyOutputFrames_ / ratio(); }

    // Consumes up to nIn frames from `in` and writes up to maxOut frames to `out`. Call again with the
    // unconsumed rest when inputUsed < nIn (the output buffer was full).
    Result process(const float* in, std::size_t nIn, float* out, std::size_t maxOut) noexcept;

    // After the last input frame: writes up to maxOut frames of the held-back tail. Returns the number
    // written; 0 once the tail is drained. Call reset() before converting a new signal.
    std::size_t flush(float* out, std::size_t maxOut) noexcept;

    // Back to the initial state (zero history, nothing held back).
    void reset() noexcept;

    // An error from libsamplerate during process()/flush() (never expected), or an empty string.
    const char* lastError() const noexcept { return lastError_; }

private:
    int measureLatency(); // called by the constructor only

    double inRate_ = 0.0;
    double outRate_ = 0.0;
    int channels_ = 0;
    ResamplerQuality quality_ = ResamplerQuality::Best;
    int latencyOutputFrames_ = 0;
    struct SrcState;
    SrcState* state_ = nullptr; // libsamplerate's SRC_STATE, kept out of this header
    const char* lastError_ = "";
};

} // namespace mfx
