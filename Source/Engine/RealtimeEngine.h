#pragma once
// The real-time engine: the model in recurrent mode, sample by sample, for plugins and live audio.
//
// Contract (as RTNeural/NAM do it):
//  - The constructor prepares everything (padded weights, scratch, per-channel state) and may throw
//    ModelError. It is the only place that allocates.
//  - process*/reset/setConditioning never allocate, lock, throw, do I/O or log, and flush denormals
//    for their duration. State (conv window + SSM state per layer and channel) carries across calls.
//  - Output does not depend on how the audio is split into blocks: each output sample's arithmetic is
//    the same for any block size (blocks are processed layer by layer in sub-blocks of kSubBlock).
//  - A non-finite input sample is treated as 0 (see Sanitize.h).
#include "../Model/Weights.h"
#include "State.h"

#include <memory>
#include <vector>

namespace mfx {

class PreparedModel;
class BlockRunner;
class BlockRunnerWithStates;

class RealtimeEngine {
public:
    static constexpr int kSubBlock = 64;

    RealtimeEngine(const Model& model, int numChannels);
    RealtimeEngine(std::shared_ptr<const PreparedModel> prepared, int numChannels);
    ~RealtimeEngine();
    RealtimeEngine(const RealtimeEngine&) = delete;
    RealtimeEngine& operator=(const RealtimeEngine&) = delete;

    const Config& config() const noexcept;
    int numChannels() const noexcept { return numChannels_; }
    // Bytes held by this engine: prepared weights, scratch and every channel's state.
    std::size_t memoryBytes() const noexcept;

    // Channel 0 (mono). `in` and `out` may alias. n >= 0.
    void process(const float* in, float* out, int n) noexcept;
    // One channel, with per-sample conditioning `cond` (n, nCond) or nullptr to use setConditioning().
    void processChannel(int channel, const float* in, float* out, int n, const float* cond = nullptr) noexcept;
    // All channels; in[c], out[c] for c < numChannels.
    void process(const float* const* in, float* const* out, int n) noexcept;

    // Conditioning values held for all following samples (nCond values; ignored if nCond == 0).
    void setConditioning(const float* values) noexcept;

    // Every channel back to the initial state (zero unless setInitialState() chose another).
    void reset() noexcept;
    State getState(int channel) const;               // allocates: not for the audio thread
    void setState(int channel, const State& state);  // throws ModelError on shape mismatch
    // The state reset() returns every channel to, applied to every channel now; e.g.
    // engineRestState(model) (RestState.h), so that a fresh or reset engine puts out its constant rest
    // output under silence instead of settling first (which a high-gain model does loudly).
    // Allocates: not for the audio thread. Throws ModelError on shape mismatch or a non-finite state.
    void setInitialState(const State& state);
    // The output of one silent sample on channel 0 from the initial state, with the conditioning
    // values held when it was measured (at construction, and by setInitialState): from a rest state,
    // the constant the engine puts out under silence. Resampling chains start their output there
    // (Plugin/RateChain.cpp, Source/Apps/live/RateAdapter.cpp) so that it has no step at the start.
    float restOutput() const noexcept { return restOutput_; }

    // Runs `samples` of silence through every channel and resets the state afterwards (to the initial
    // state), touching every buffer once so the first real block has no page faults.
    void warmUp(int samples = 2048) noexcept;

private:
    std::shared_ptr<const PreparedModel> prepared_;
    int numChannels_ = 0;
    std::unique_ptr<BlockRunner> runner_;
    std::vector<float> condValues_; // (nCond)
    std::vector<float> condBlock_;  // (kSubBlock, nCond)
    float restOutput_ = 0.0f;
    void measureRestOutput() noexcept; // sets restOutput_, then reset()
};

} // namespace mfx
