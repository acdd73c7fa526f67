#include "Optimizer.h"

#include <cmath>

namespace mfx::train {

double scheduledLr(const AdamOptions& o, long step, long totalSteps) {
    if (step < o.warmupSteps) return o.lr * (0.05 + 0.95 * static_cast<double>(step) / static_cast<double>(o.warmupSteps));
    const long span = std::max(1L, totalSteps - o.warmupSteps);
    const double x = std::min(1.0, static_cast<double>(step - o.warmupSteps) / static_cast<double>(span));
    return o.lrFinal + 0.5 * (o.lr - o.lrFinal) * (1.0 + std::cos(M_PI * x));
}

// m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * mhat / (sqrt(vhat) + eps)
double Adam::update(std::vector<double>& params, std::vector<double>& grad, double lr) {
    double norm = 0;
    for (double g : grad) norm += g * g;
    norm = std::sqrt(norm);
    if (o_.clipNorm > 0 && norm > o_.clipNorm)
        for (double& g : grad) g *= o_.clipNorm / norm;
    ++t_;
    const double c1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
    for (std::size_t i = 0; i < params.size(); ++i) {
        m_[i] = o_.beta1 * m_[i] + (1.0 - o_.beta1) * grad[i];
        v_[i] = o_.beta2 * v_[i] + (1.0 - o_.beta2) * grad[i] * grad[i];
        params[i] -= lr * (m_[i] / c1) / (std::sqrt(v_[i] / c2) + o_.eps);
    }
    return norm;
}

} // namespace mfx::train
