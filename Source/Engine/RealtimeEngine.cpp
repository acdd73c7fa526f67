#include "RealtimeEngine.h"
#include "BlockRunner.h"
#include "Denormals.h"
#include "../Model/ModelError.h"

#include <algorithm>
#include <string>

namespace mfx {

struct EngineChannels {
    std::vector<ChannelState> states; // numChannels
};

// The engine's private parts: one runner (scratch) shared by all channels, one state per channel.
class BlockRunnerWithStates : public BlockRunner {
public:
    BlockRunnerWithStates(const PreparedModel& pm, int numChannels) : BlockRunner(pm, RealtimeEngine::kSubBlock) {
        states.reserve(static_cast<std::size_t>(numChannels));
        for (int c = 0; c < numChannels; ++c) states.emplace_back(pm);
    }
    std::vector<ChannelState> states;
    std::unique_ptr<ChannelState> initial; // what reset() restores; nullptr: zero
};

RealtimeEngine::RealtimeEngine(const Model& model, int numChannels)
    : RealtimeEngine(std::make_shared<const PreparedModel>(model), numChannels) {}

RealtimeEngine::RealtimeEngine(std::shared_ptr<const PreparedModel> prepared, int numChannels)
    : prepared_(std::move(prepared)), numChannels_(numChannels) {
    if (!prepared_) throw ModelError("no model given to the real-time engine");
    if (numChannels < 1 || numChannels > 64)
        throw ModelError("the real-time engine supports 1 to 64 channels, not " + std::to_string(numChannels));
    auto r = std::make_unique<BlockRunnerWithStates>(*prepared_, numChannels);
    runner_.reset(r.release());
    condValues_.assign(static_cast<std::size_t>(prepared_->config().nCond), 0.0f);
    condBlock_.assign(static_cast<std::size_t>(kSubBlock) * static_cast<std::size_t>(std::max(1, prepared_->config().nCond)), 0.0f);
    measureRestOutput();
}

void RealtimeEngine::measureRestOutput() noexcept {
    const float silence = 0.0f;
    processChannel(0, &silence, &restOutput_, 1, nullptr);
    reset();
}

RealtimeEngine::~RealtimeEngine() = default;

const Config& RealtimeEngine::config() const noexcept { return prepared_->config(); }

void RealtimeEngine::process(const float* in, float* out, int n) noexcept { processChannel(0, in, out, n, nullptr); }

void RealtimeEngine::processChannel(int channel, const float* in, float* out, int n, const float* cond) noexcept {
    if (channel < 0 || channel >= numChannels_ || n <= 0) return;
    ScopedFlushDenormals noDenormals;
    auto& r = static_cast<BlockRunnerWithStates&>(*runner_);
    const std::size_t nCond = static_cast<std::size_t>(prepared_->config().nCond);
    for (int done = 0; done < n;) {
        const int rows = std::min(kSubBlock, n - done);
        r.run(r.states[static_cast<std::size_t>(channel)], in + done, cond ? cond + static_cast<std::size_t>(done) * nCond : nullptr,
              nCond, condValues_.data(), out + done, static_cast<std::size_t>(rows), nullptr);
        done += rows;
    }
}

void RealtimeEngine::process(const float* const* in, float* const* out, int n) noexcept {
    for (int c = 0; c < numChannels_; ++c) processChannel(c, in[c], out[c], n, nullptr);
}

void RealtimeEngine::setConditioning(const float* values) noexcept {
    for (std::size_t j = 0; j < condValues_.size(); ++j) condValues_[j] = values[j];
}

void RealtimeEngine::reset() noexcept {
    auto& r = static_cast<BlockRunnerWithStates&>(*runner_);
    for (auto& s : r.states) {
        if (r.initial) s.assign(*r.initial);
        else s.reset();
    }
}

void RealtimeEngine::setInitialState(const State& state) {
    if (!state.allFinite()) throw ModelError("the initial state has non-finite values");
    auto& r = static_cast<BlockRunnerWithStates&>(*runner_);
    auto initial = std::make_unique<ChannelState>(*prepared_);
    initial->fromState(*prepared_, state);
    r.initial = std::move(initial);
    reset();
    measureRestOutput();
}

State RealtimeEngine::getState(int channel) const {
    if (channel < 0 || channel >= numChannels_) throw ModelError("no channel " + std::to_string(channel));
    return static_cast<const BlockRunnerWithStates&>(*runner_).states[static_cast<std::size_t>(channel)].toState(*prepared_);
}

void RealtimeEngine::setState(int channel, const State& state) {
    if (channel < 0 || channel >= numChannels_) throw ModelError("no channel " + std::to_string(channel));
    static_cast<BlockRunnerWithStates&>(*runner_).states[static_cast<std::size_t>(channel)].fromState(*prepared_, state);
}

std::size_t RealtimeEngine::memoryBytes() const noexcept {
    const auto& r = static_cast<const BlockRunnerWithStates&>(*runner_);
    std::size_t bytes = prepared_->memoryBytes() + r.scratchBytes();
    for (const auto& s : r.states) bytes += s.memoryBytes();
    if (r.initial) bytes += r.initial->memoryBytes();
    return bytes;
}

void RealtimeEngine::warmUp(int samples) noexcept {
    float silence[kSubBlock] = {};
    float sink[kSubBlock];
    for (int c = 0; c < numChannels_; ++c)
        for (int done = 0; done < samples; done += kSubBlock) processChannel(c, silence, sink, kSubBlock, nullptr);
    reset();
}

} // namespace mfx
