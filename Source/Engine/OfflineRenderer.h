#pragma once
// The offline CPU path: long buffers, layer by layer, spread across threads.
//  - Per-timestep work (projections, norms, conv, gating) is split over time ranges.
//  - The selective scan is split across channels (dInner lanes) and runs sequentially in time with
//    exactly the real-time engine's arithmetic, so offline output is bitwise identical to the
//    real-time engine's, and a file rendered in pieces equals the file rendered whole.
#include "../Model/Weights.h"
#include "State.h"

#include <cstddef>
#include <memory>

namespace mfx {

class PreparedModel;
class ThreadPool;

struct OfflineOptions {
    int numThreads = 0;                 // 0: hardware concurrency
    std::size_t windowSamples = 1 << 14; // rows per pass: bounds memory (about 1 KiB per row at dModel 16)
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
