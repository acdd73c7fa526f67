// Resampler: a thin, allocation-free-after-construction wrapper of libsamplerate's streaming API
// (src_new / src_process / src_reset). See Resampler.h for the contract.
#include "Resampler.h"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace mfx {

namespace {

int converterType(ResamplerQuality quality) {
    switch (quality) {
    case ResamplerQuality::Best: return SRC_SINC_BEST_QUALITY;
    case ResamplerQuality::Medium: return SRC_SINC_MEDIUM_QUALITY;
    case ResamplerQuality::Fast: return SRC_SINC_FASTEST;
    }
    return SRC_SINC_BEST_QUALITY;
}

} // namespace

std::optional<ResamplerQuality> parseResamplerQuality(std::string_view name) {
    if (name == "best") return ResamplerQuality::Best;
    if (name == "medium") return ResamplerQuality::Medium;
    if (name == "fast") return ResamplerQuality::Fast;
    return std::nullopt;
}

const char* toString(ResamplerQuality quality) {
    switch (quality) {
    case ResamplerQuality::Best: return "best";
    case ResamplerQuality::Medium: return "medium";
    case ResamplerQuality::Fast: return "fast";
    }
    return "best";
}

struct Resampler::SrcState {
    SRC_STATE* src = nullptr;
};

Resampler::Resampler(double inRate, double outRate, int channels, ResamplerQuality quality)
    : inRate_(inRate), outRate_(outRate), channels_(channels), quality_(quality) {
    if (!(inRate > 0.0) || !(outRate > 0.0) || !std::isfinite(inRate) || !std::isfinite(outRate))
        throw std::invalid_argument("resampler: sample rates must be positive (got " + std::to_string(inRate) +
                                    " Hz -> " + std::to_string(outRate) + " Hz)");
    if (src_is_valid_ratio(outRate / inRate) == 0)
        throw std::invalid_argument("resampler: cannot convert " + std::to_string(inRate) + " Hz to " +
                                    std::to_string(outRate) + " Hz (libsamplerate supports ratios 1/256 to 256)");
    if (channels < 1)
        throw std::invalid_argument("resampler: channel count must be at least 1 (got " + std::to_string(channels) + ")");

    int error = 0;
    SRC_STATE* src = src_new(converterType(quality), channels, &error);
    if (src == nullptr)
        throw std::invalid_argument(std::string("resampler: libsamplerate could not start: ") + src_strerror(error));
    state_ = new SrcState{src};
    try {
        latencyOutputFrames_ = measureLatency();
    } catch (...) {
        src_delete(src);
        delete state_;
        throw;
    }
    reset();
}

Resampler::~Resampler() {
    if (state_ != nullptr) src_delete(state_->src);
    delete state_;
}

// Feeds silence one frame at a time and watches how far the delivered output lags behind the output
// that input would ideally have produced. The lag varies by a fraction of a frame with the phase of
// the two clocks, so the maximum over a few thousand frames (rounded up) is reported.
int Resampler::measureLatency() {
    const std::size_t ch = static_cast<std::size_t>(channels_);
    std::vector<float> zero(ch, 0.0f);                                   // (1, channels)
    const std::size_t maxOut = static_cast<std::size_t>(std::ceil(ratio())) + 2;
    std::vector<float> out(maxOut * ch);                                 // (maxOut, channels)
    const std::size_t total = 4096 + static_cast<std::size_t>(std::ceil(4096.0 / std::min(1.0, ratio())));
    double generated = 0.0;
    double lag = 0.0;
    for (std::size_t fed = 1; fed <= total; ++fed) {
        const Result r = process(zero.data(), 1, out.data(), maxOut);
        generated += static_cast<double>(r.outputGenerated);
        if (fed > total / 2) lag = std::max(lag, static_cast<double>(fed) * ratio() - generated);
    }
    return static_cast<int>(std::ceil(lag - 1e-9));
}

Resampler::Result Resampler::process(const float* in, std::size_t nIn, float* out, std::size_t maxOut) noexcept {
    SRC_DATA data{};
    data.data_in = in;
    data.input_frames = static_cast<long>(nIn);
    data.data_out = out;
    data.output_frames = static_cast<long>(maxOut);
    data.end_of_input = 0;
    data.src_ratio = ratio();
    const int error = src_process(state_->src, &data);
    if (error != 0) {
        lastError_ = src_strerror(error);
        return {};
    }
    return {static_cast<std::size_t>(data.input_frames_used), static_cast<std::size_t>(data.output_frames_gen)};
}

std::size_t Resampler::flush(float* out, std::size_t maxOut) noexcept {
    static const float kNothing[1] = {0.0f};
    SRC_DATA data{};
    data.data_in = kNothing;
    data.input_frames = 0;
    data.data_out = out;
    data.output_frames = static_cast<long>(maxOut);
    data.end_of_input = 1;
    data.src_ratio = ratio();
    const int error = src_process(state_->src, &data);
    if (error != 0) {
        lastError_ = src_strerror(error);
        return 0;
    }
    return static_cast<std::size_t>(data.output_frames_gen);
}

void Resampler::reset() noexcept {
    src_reset(state_->src);
    lastError_ = "";
}

} // namespace mfx
