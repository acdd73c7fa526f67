#pragma once
// Adam with bias correction, global-norm gradient clipping and a warm-up + cosine learning-rate
// schedule. State in float64 so the update does not depend on float rounding of tiny moments.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mfx::train {

struct AdamOptions {
    double lr = 4e-3;        // peak learning rate
    double lrFinal = 1e-4;   // reached at the last step (cosine decay)
    long warmupSteps = 50;   // linear ramp from lr/20 to lr
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    double clipNorm = 1.0;   // global L2 norm of the gradient; <= 0 disables
};

// Learning rate at `step` (0-based) of `totalSteps`.
double scheduledLr(const AdamOptions& o, long step, long totalSteps);

class Adam {
public:
    Adam() = default;
    Adam(std::size_t n, const AdamOptions& o) : o_(o), m_(n, 0.0), v_(n, 0.0) {}

    // Clips `grad` in place, updates `params`; returns the gradient norm before clipping.
    double update(std::vector<double>& params, std::vector<double>& grad, double lr);

    long steps() const { return t_; }
    const AdamOptions& options() const { return o_; }
    // For checkpoints.
    std::vector<double>& m() { return m_; }
    std::vector<double>& v() { return v_; }
    void setSteps(long t) { t_ = t; }

private:
    AdamOptions o_;
    std::vector<double> m_, v_; // (params)
    long t_ = 0;
};

} // namespace mfx::train
