// The CPU gradient backend: the fast float tape (FastTape.h) over each segment of a batch, segments spread
// over std::threads, per-segment float gradients summed in segment order in float64 (so the result
// is the same at any thread count).
#include "GradientBackend.h"
#include "Parallel.h"
#include "FastTape.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace mfx::train {

namespace {

class CpuGradientBackend final : public GradientBackend {
public:
    CpuGradientBackend(const Config& c, int threads) : config_(c), layout_(c), threads_(std::max(1, threads)) {}

    std::string name() const override {
        return "cpu (" + std::to_string(threads_) + (threads_ == 1 ? " thread)" : " threads)");
    }

    double lossAndGradient(const std::vector<double>& params, const SegmentBatch& batch, double den, const LossOptions& loss,
                           std::vector<double>& grad) override {
        const std::size_t B = batch.size(), len = batch.length;
        if (batch.target.size() != B || (config_.nCond > 0 && batch.cond.size() != B))
            throw std::invalid_argument("training batch: every segment needs a target" +
                                        std::string(config_.nCond > 0 ? " and conditioning values" : ""));
        const int nCond = config_.nCond;
        FastParams pp(config_);
        pp.set(params);
        std::vector<std::vector<float>> segGrad(B);
        std::vector<double> segLoss(B, 0.0);
        out_.assign(B * len, 0.0f);
        const int nThreads = std::max(1, std::min<int>(threads_, static_cast<int>(B)));
        while (passes_.size() < static_cast<std::size_t>(nThreads)) passes_.push_back(std::make_unique<FastSegmentPass>(config_));
        auto work = [&](int w) {
            FastSegmentPass& pass = *passes_[static_cast<std::size_t>(w)];
            std::vector<float> cond(nCond ? len * static_cast<std::size_t>(nCond) : 0); // (len, nCond)
            std::vector<float> gy(len);                                                   // (len)
            for (std::size_t i = static_cast<std::size_t>(w); i < B; i += static_cast<std::size_t>(nThreads)) {
                for (std::size_t t = 0; t < len && nCond; ++t)
                    std::copy(batch.cond[i], batch.cond[i] + nCond, cond.data() + t * static_cast<std::size_t>(nCond));
                float* y = out_.data() + i * len;
                pass.forward(pp, batch.input[i], nCond ? cond.data() : nullptr, len, y);
                segLoss[i] = segmentLossAndGrad(y, batch.target[i], len, batch.warmup, den, static_cast<int>(B), loss, gy.data());
                segGrad[i].assign(layout_.total, 0.0f);
                pass.backward(pp, gy.data(), segGrad[i].data());
            }
        };
        runOnThreads(nThreads, work);
        grad.assign(layout_.total, 0.0);
        double total = 0;
        for (std::size_t i = 0; i < B; ++i) {
            total += segLoss[i];
            for (std::size_t k = 0; k < grad.size(); ++k) grad[k] += static_cast<double>(segGrad[i][k]);
        }
        return total;
    }

    std::vector<float> lastOutput() const override { return out_; }

private:
    Config config_;
    ParamLayout layout_;
    int threads_;
    std::vector<float> out_; // (batch, length) outputs of the last call
    std::vector<std::unique_ptr<FastSegmentPass>> passes_; // one per thread, kept: their tapes are tens of MB
};

} // namespace

std::unique_ptr<GradientBackend> makeCpuGradientBackend(const Config& config, int threads) {
    return std::make_unique<CpuGradientBackend>(config, threads);
}

} // namespace mfx::train
