#pragma once
// The offline CPU path: long buffers, layer by layer, spread across threads.
//  - Per-timestep work (projections, norms, conv, gating) is split over time ranges.
//  - The selective scan is split across channels (dInner lanes) and runs sequentially in time with
//    exactly the real-time engine's arithmetic, so offline output is bitwise identical to the
//    real-time engine's, and a file rendered in pieces equals the file rendered whole.
//  - ScanMode::TimeChunked runs the time-parallel chunked scan instead (the GPU's algorithm, here as
//    its CPU reference): each time chunk is scanned from zero state while its carry is recorded
//    (prod exp(dt A) = exp(A sum dt), h_end), the carries are combined in order, and each chunk is
//    scanned again from its true initial state. Twice the scan work and not bitwise equal to the
//    real-time engine (rounding differs; tested to 3e-5 of the reference, typically a few 1e-6); useful where there are
//    more threads than dInner/16 lane groups.
#include "../Model/Weights.h"
#include "State.h"

#include <cstddef>
#include <memory>

namespace mfx {

class PreparedModel;
class ThreadPool;

enum class ScanMode { ChannelParallel, TimeChunked };

struct OfflineOptions {
    int numThreads = 0;                 // 0: hardware concurrency
    std::size_t windowSamples = 1 << 14; // rows per pass: bounds memory (about 1 KiB per row at dModel 16)
    ScanMode scan = ScanMode::ChannelParallel;
};

class OfflineRenderer {
public:
    OfflineRenderer(const Model& model, int numChannels, const OfflineOptions& options = {});
    OfflineRenderer(std::shared_ptr<const PreparedModel> prepared, int numChannels, const OfflineOptions& options = {});
    ~OfflineRenderer();

    const Config& config() const noexcept;
    int numChannels() const noexcept { return numChannels_; }

    // Processes n samples of one channel; state carries across calls. `cond` is (n, nCond) or nullptr
    // (then the values from setConditioning, default 0).
    void process(int channel, const float* in, float* out, std::size_t n, const float* cond = nullptr);
    void setConditioning(const float* values);

    void reset();
    State getState(int channel) const;
    void setState(int channel, const State& state);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int numChannels_ = 0;
};

} // namespace mfx
