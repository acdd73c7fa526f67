#include "OfflineRenderer.h"
#include "BlockRunner.h"
#include "Denormals.h"
#include "ThreadPool.h"
#include "../Model/ModelError.h"

#include <algorithm>
#include <string>

namespace mfx {

struct OfflineRenderer::Impl {
    std::shared_ptr<const PreparedModel> pm;
    ThreadPool pool;
    BlockRunner runner;
    std::vector<ChannelState> states;
    std::vector<float> held; // (nCond)

    Impl(std::shared_ptr<const PreparedModel> p, int numChannels, const OfflineOptions& o)
        : pm(std::move(p)), pool(o.numThreads),
          runner(*pm, std::max<std::size_t>(o.windowSamples, 1), o.scan == ScanMode::TimeChunked ? 4 * pool.numThreads() : 0),
          held(static_cast<std::size_t>(pm->config().nCond), 0.0f) {
        states.reserve(static_cast<std::size_t>(numChannels));
        for (int c = 0; c < numChannels; ++c) states.emplace_back(*pm);
    }
};

OfflineRenderer::OfflineRenderer(const Model& model, int numChannels, const OfflineOptions& options)
    : OfflineRenderer(std::make_shared<const PreparedModel>(model), numChannels, options) {}

OfflineRenderer::OfflineRenderer(std::shared_ptr<const PreparedModel> prepared, int numChannels,
                                 const OfflineOptions& options)
    : numChannels_(numChannels) {
    if (!prepared) throw ModelError("no model given to the offline renderer");
    if (numChannels < 1) throw ModelError("the offline renderer needs at least one channel");
    if (options.windowSamples < 1 || options.windowSamples > (std::size_t{1} << 24))
        throw ModelError("offline window must be 1 to 16777216 samples, not " + std::to_string(options.windowSamples));
    impl_ = std::make_unique<Impl>(std::move(prepared), numChannels, options);
}

OfflineRenderer::~OfflineRenderer() = default;

const Config& OfflineRenderer::config() const noexcept { return impl_->pm->config(); }

void OfflineRenderer::process(int channel, const float* in, float* out, std::size_t n, const float* cond) {
    if (channel < 0 || channel >= numChannels_) throw ModelError("no channel " + std::to_string(channel));
    ScopedFlushDenormals noDenormals; // this thread; workers set their own inside the kernels' callers below
    const std::size_t nCond = static_cast<std::size_t>(config().nCond);
    const std::size_t W = impl_->runner.maxRows();
    for (std::size_t done = 0; done < n;) {
        const std::size_t rows = std::min(W, n - done);
        impl_->runner.run(impl_->states[static_cast<std::size_t>(channel)], in + done, cond ? cond + done * nCond : nullptr,
                          nCond, impl_->held.data(), out + done, rows, &impl_->pool);
        done += rows;
    }
}

void OfflineRenderer::setConditioning(const float* values) {
    std::copy(values, values + impl_->held.size(), impl_->held.begin());
}

void OfflineRenderer::reset() {
    for (auto& s : impl_->states) s.reset();
}

State OfflineRenderer::getState(int channel) const {
    if (channel < 0 || channel >= numChannels_) throw ModelError("no channel " + std::to_string(channel));
    return impl_->states[static_cast<std::size_t>(channel)].toState(*impl_->pm);
}

void OfflineRenderer::setState(int channel, const State& state) {
    if (channel < 0 || channel >= numChannels_) throw ModelError("no channel " + std::to_string(channel));
    impl_->states[static_cast<std::size_t>(channel)].fromState(*impl_->pm, state);
}

} // namespace mfx
