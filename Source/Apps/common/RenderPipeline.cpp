// The streaming per-file render (see RenderPipeline.h).
#include "RenderPipeline.h"

#include "Errors.h"
#include "Interrupt.h"
#include "PendingOutput.h"

#include <Backend/Backend.h>
#include <Engine/RestState.h>
#include <Engine/Sanitize.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

namespace mfx::apps {

namespace fs = std::filesystem;

float decibelsToGain(double dB) { return static_cast<float>(std::pow(10.0, dB / 20.0)); }

namespace {

// One file's stream state and buffers. Frames are interleaved unless named planar.
class StreamRenderer {
public:
    StreamRenderer(const RenderJob& job, const Model& model, PreparedBackend& backend, const RenderSettings& settings,
                   AudioWriter& writer)
        : settings_(settings), backend_(backend.begin(model, job.info.channels)), writer_(writer),
          ch_(static_cast<std::size_t>(job.info.channels)), window_(std::max<std::size_t>(settings.windowFrames, 64)),
          mixing_(settings.mix < 1.0f), clips_(formatClips(job.outputFormat)) {
        const double fileRate = job.info.sampleRate;
        const double modelRate = model.config.sampleRate;
        const int channels = job.info.channels;
        std::size_t modelWindow = window_;
        if (std::abs(fileRate - modelRate) > 1e-6) {
            up_.emplace(fileRate, modelRate, channels, settings.quality);
            down_.emplace(modelRate, fileRate, channels, settings.quality);
            modelWindow = static_cast<std::size_t>(std::ceil(static_cast<double>(window_) * up_->ratio())) + 64;
        }
        modelWindow_ = modelWindow;
        gained_.resize(window_ * ch_);           // (window, C)
        modelIn_.resize(modelWindow_ * ch_);     // (modelWindow, C)
        modelOut_.resize(modelWindow_ * ch_);    // (modelWindow, C)
        planarIn_.resize(modelWindow_ * ch_);    // (C, modelWindow)
        planarOut_.resize(modelWindow_ * ch_);   // (C, modelWindow)
        fileOut_.resize(window_ * ch_);          // (window, C)
        out_.resize(window_ * ch_);              // (window, C)
        inPtr_.resize(ch_);
        outPtr_.resize(ch_);
        for (std::size_t c = 0; c < ch_; ++c) {
            inPtr_[c] = planarIn_.data() + c * modelWindow_;
            outPtr_[c] = planarOut_.data() + c * modelWindow_;
        }
        if (model.config.nCond > 0 && !settings.conditioning.empty()) backend_.setConditioning(settings.conditioning.data());
        if (settings.initialState) {
            for (int c = 0; c < channels; ++c) backend_.setState(c, *settings.initialState);
            // engineRestState is the engine's float32 fixed point under silence. Other arithmetic (the
            // chunked scan, CUDA) has its own a rounding error away, which a high-gain model would
            // turn into a faint ring over the first samples (the default model on a GPU: up to
            // -68 dBFS, then its float32 floor of about -74 to -82 dBFS). Settle it there too: the same silence,
            // output discarded.
            if (!backend_.bitwiseEngine()) settle();
            if (up_) measureRestOutput(*settings.initialState);
        }
    }

    // The model's output under silence at its rest state (a constant, e.g. the default model's DC
    // offset of 0.0005), per channel. The down-converter treats the time before the first frame as
    // zeros, so fed the model's output it would turn that constant into a step with sinc ringing over
    // the first milliseconds; it converts (output - restOut) instead, which is zero before the start
    // as after it, and restOut is added back at the file's rate (the converter is linear).
    void measureRestOutput(const State& rest) {
        std::fill(planarIn_.begin(), planarIn_.end(), 0.0f);
        backend_.process(inPtr_.data(), outPtr_.data(), static_cast<int>(ch_), 1);
        restOut_.resize(ch_);
        for (std::size_t c = 0; c < ch_; ++c) restOut_[c] = outPtr_[c][0];
        for (std::size_t c = 0; c < ch_; ++c) backend_.setState(static_cast<int>(c), rest); // undo the probe's step
        if (!backend_.bitwiseEngine()) settle();
    }

    void settle() {
        std::fill(planarIn_.begin(), planarIn_.end(), 0.0f);
        for (std::size_t done = 0; done < static_cast<std::size_t>(kSettleSamples);) {
            const std::size_t k = std::min(modelWindow_, static_cast<std::size_t>(kSettleSamples) - done);
            backend_.process(inPtr_.data(), outPtr_.data(), static_cast<int>(ch_), k);
            done += k;
        }
    }

    bool resampled() const { return up_.has_value(); }
    // File-rate frames the two converters hold back together (compensated by finish()).
    int latency() const {
        return up_ ? static_cast<int>(std::ceil(up_->latencyInputFrames())) + down_->latencyOutputFrames() : 0;
    }

    // Takes n frames read from the file.
    void push(const float* raw, std::size_t n) {
        framesRead_ += static_cast<std::int64_t>(n);
        // Non-finite or huge samples (a damaged file) become what the engine makes of them
        // (Sanitize.h) before the dry path and the rate converter too: neither passes on a NaN as a
        // full-scale click, nor spreads it over a converter's kernel.
        const float* in = raw;
        if (std::any_of(raw, raw + n * ch_, [](float v) { return !(sanitizeSample(v) == v); })) {
            clean_.assign(raw, raw + n * ch_);
            for (float& v : clean_) v = sanitizeSample(v);
            in = clean_.data();
        }
        if (mixing_) pushDry(in, n);
        const float* x = in;
        if (settings_.inputGain != 1.0f) {
            for (std::size_t i = 0; i < n * ch_; ++i) gained_[i] = in[i] * settings_.inputGain;
            x = gained_.data();
        }
        if (!up_) {
            for (std::size_t done = 0; done < n;) {
                const std::size_t k = std::min(n - done, modelWindow_);
                runModel(x + done * ch_, k, fileOut_.data());
                emitWet(fileOut_.data(), k);
                done += k;
            }
            return;
        }
        feedUp(x, n);
    }

    // After the last frame: drains the resamplers and cuts/pads to the input's length.
    // The input is followed by `latency()` + 4 frames of silence before the converters are flushed,
    // so the last output frames come from model output around them, not from the converters' edge.
    void finish() {
        eof_ = true;
        if (up_) {
            std::fill(gained_.begin(), gained_.end(), 0.0f);
            for (std::size_t left = static_cast<std::size_t>(latency()) + 4; left > 0;) {
                const std::size_t k = std::min(left, window_);
                feedUp(gained_.data(), k);
                left -= k;
            }
            for (;;) {
                const std::size_t k = up_->flush(modelIn_.data(), modelWindow_);
                checkResampler(*up_, 1);
                if (k == 0) break;
                modelRateChunk(k);
            }
            for (;;) {
                const std::size_t k = down_->flush(fileOut_.data(), window_);
                checkResampler(*down_, 1);
                if (k == 0) break;
                emitConverted(k);
            }
        }
        std::fill(fileOut_.begin(), fileOut_.end(), 0.0f);
        while (framesWritten_ < framesRead_) {
            const auto k = static_cast<std::size_t>(std::min<std::int64_t>(framesRead_ - framesWritten_, static_cast<std::int64_t>(window_)));
            emitWet(fileOut_.data(), k);
        }
    }

    std::int64_t framesWritten() const { return framesWritten_; }
    std::int64_t clipped() const { return clipped_; }
    float peak() const { return peak_; }

private:
    // x: n frames at the file's rate -> up-resampler -> model -> down-resampler -> output.
    void feedUp(const float* x, std::size_t n) {
        for (std::size_t used = 0; used < n;) {
            const auto r = up_->process(x + used * ch_, n - used, modelIn_.data(), modelWindow_);
            checkResampler(*up_, r.inputUsed + r.outputGenerated);
            used += r.inputUsed;
            modelRateChunk(r.outputGenerated);
        }
    }

    void checkResampler(const Resampler& r, std::size_t progress) const {
        if (r.lastError()[0] != '\0') throw Failure(std::string("sample rate conversion failed: ") + r.lastError());
        if (progress == 0) throw Failure("sample rate conversion stalled (libsamplerate made no progress)");
    }

    // modelIn_[0, k) at the model's rate -> model -> down-resampler -> output.
    void modelRateChunk(std::size_t k) {
        if (k == 0) return;
        runModel(modelIn_.data(), k, modelOut_.data());
        if (!restOut_.empty())
            for (std::size_t i = 0; i < k; ++i)
                for (std::size_t c = 0; c < ch_; ++c) modelOut_[i * ch_ + c] -= restOut_[c];
        for (std::size_t used = 0; used < k;) {
            const auto r = down_->process(modelOut_.data() + used * ch_, k - used, fileOut_.data(), window_);
            checkResampler(*down_, r.inputUsed + r.outputGenerated);
            used += r.inputUsed;
            emitConverted(r.outputGenerated);
        }
    }

    // fileOut_[0, k): the down-converter's output, restOut added back (measureRestOutput).
    void emitConverted(std::size_t k) {
        if (!restOut_.empty())
            for (std::size_t i = 0; i < k; ++i)
                for (std::size_t c = 0; c < ch_; ++c) fileOut_[i * ch_ + c] += restOut_[c];
        emitWet(fileOut_.data(), k);
    }

    // Every channel through the backend as its own stream: (k, C) -> (C, k) -> model -> (k, C).
    void runModel(const float* x, std::size_t k, float* y) {
        for (std::size_t c = 0; c < ch_; ++c) {
            float* planar = planarIn_.data() + c * modelWindow_;
            for (std::size_t i = 0; i < k; ++i) planar[i] = x[i * ch_ + c];
        }
        backend_.process(inPtr_.data(), outPtr_.data(), static_cast<int>(ch_), k);
        for (std::size_t c = 0; c < ch_; ++c)
            for (std::size_t i = 0; i < k; ++i) y[i * ch_ + c] = outPtr_[c][i];
    }

    void pushDry(const float* in, std::size_t n) {
        if (dryHead_ > 0 && dryHead_ * 2 >= dry_.size()) { // drop consumed frames now and then
            dry_.erase(dry_.begin(), dry_.begin() + static_cast<std::ptrdiff_t>(dryHead_));
            dryHead_ = 0;
        }
        dry_.insert(dry_.end(), in, in + n * ch_);
    }

    // k wet frames at the file's rate, in order from frame 0: mix, gain, write.
    void emitWet(const float* wet, std::size_t k) {
        if (eof_) k = static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(k), framesRead_ - framesWritten_));
        if (k == 0) return;
        const float mix = settings_.mix;
        const float gain = settings_.outputGain;
        for (std::size_t i = 0; i < k * ch_; ++i) {
            float y = wet[i];
            if (mixing_) {
                const std::size_t d = dryHead_ + i;
                const float dry = d < dry_.size() ? dry_[d] : 0.0f;
                y = mix * y + (1.0f - mix) * dry;
            }
            if (gain != 1.0f) y *= gain;
            const float a = std::fabs(y);
            peak_ = std::max(peak_, a);
            if (clips_ && a > 1.0f) ++clipped_;
            out_[i] = y;
        }
        if (mixing_) dryHead_ = std::min(dry_.size(), dryHead_ + k * ch_);
        writer_.write(out_.data(), k);
        framesWritten_ += static_cast<std::int64_t>(k);
    }

    const RenderSettings& settings_;
    RenderBackend& backend_;
    AudioWriter& writer_;
    const std::size_t ch_;
    const std::size_t window_;
    std::size_t modelWindow_ = 0;
    const bool mixing_;
    const bool clips_;
    std::optional<Resampler> up_, down_;
    std::vector<float> restOut_;   // (C) the model's rest output, when resampling from the rest state

    std::vector<float> gained_;    // (window, C) input after input gain
    std::vector<float> modelIn_;   // (modelWindow, C) at the model's rate
    std::vector<float> modelOut_;  // (modelWindow, C)
    std::vector<float> planarIn_;  // (C, modelWindow)
    std::vector<float> clean_;     // (window, C) the file's frames sanitised, only when they need it
    std::vector<float> planarOut_; // (C, modelWindow)
    std::vector<float> fileOut_;   // (window, C) wet at the file's rate
    std::vector<float> out_;       // (window, C) what is written
    std::vector<const float*> inPtr_;
    std::vector<float*> outPtr_;
    std::vector<float> dry_;       // (pending frames, C) dry input waiting for its wet partner
    std::size_t dryHead_ = 0;      // first pending dry sample

    std::int64_t framesRead_ = 0;
    std::int64_t framesWritten_ = 0;
    std::int64_t clipped_ = 0;
    float peak_ = 0.0f;
    bool eof_ = false;
};

// "2 channel(s) at 48000 Hz, 1000 frames"
std::string shape(const AudioInfo& info) {
    return std::to_string(info.channels) + " channel(s) at " + std::to_string(info.sampleRate) + " Hz, " +
           std::to_string(info.frames) + " frames";
}

// The buffers, resamplers and output format were planned for job.info: a file replaced since (a long
// batch) must not be streamed through them.
void checkUnchanged(const RenderJob& job, const AudioInfo& now) {
    if (now.channels == job.info.channels && now.sampleRate == job.info.sampleRate && now.frames == job.info.frames)
        return;
    throw Failure("'" + job.input.string() + "' changed since the batch was planned (" + shape(job.info) + " then, " +
                  shape(now) + " now); run again to render it");
}

} // namespace

RenderBackend& PreparedBackend::begin(const Model& model, int channels) {
    if (model_ == &model && channels_ == channels) {
        backend_.reset();
        return backend_;
    }
    model_ = nullptr; // a failing prepare() leaves nothing reusable
    backend_.prepare(model, channels);
    model_ = &model;
    channels_ = channels;
    return backend_;
}

RenderStats renderFile(const RenderJob& job, const Model& model, RenderBackend& backend, const RenderSettings& settings,
                       const ProgressCallback& progress) {
    PreparedBackend fresh(backend);
    return renderFile(job, model, fresh, settings, progress);
}

RenderStats renderFile(const RenderJob& job, const Model& model, PreparedBackend& backend, const RenderSettings& settings,
                       const ProgressCallback& progress) {
    const auto start = std::chrono::steady_clock::now();
    AudioReader reader(job.input);
    const AudioInfo& info = reader.info();
    checkUnchanged(job, info); // before anything is written

    std::error_code ec;
    if (job.output.has_parent_path()) {
        fs::create_directories(job.output.parent_path(), ec);
        if (ec) throw Failure("cannot create the folder '" + job.output.parent_path().string() + "': " + ec.message());
    }
    PendingOutput pending(job.output); // declared before the writer: the file is closed before it is removed
    RenderStats stats;
    {
        AudioWriter writer(pending.tempPath(), job.outputFormat, info.channels, info.sampleRate);
        StreamRenderer stream(job, model, backend, settings, writer);
        std::vector<float> window(settings.windowFrames * static_cast<std::size_t>(info.channels)); // (window, C)
        std::int64_t done = 0;
        for (;;) {
            throwIfInterrupted();
            const std::size_t n = reader.read(window.data(), settings.windowFrames);
            if (n == 0) break;
            stream.push(window.data(), n);
            done += static_cast<std::int64_t>(n);
            if (progress) progress(done);
        }
        stream.finish();
        throwIfInterrupted();
        writer.close();
        stats.frames = stream.framesWritten();
        stats.clippedSamples = stream.clipped();
        stats.peak = stream.peak();
        stats.resampled = stream.resampled();
    }
    pending.commit();
    stats.audioSeconds = static_cast<double>(stats.frames) / info.sampleRate;
    stats.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return stats;
}

} // namespace mfx::apps
