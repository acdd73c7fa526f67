#include "State.h"

#include <cmath>

namespace mfx {

template <typename T>
bool StateT<T>::allFinite() const {
    for (const auto& l : layers) {
        for (T v : l.conv)
            if (!std::isfinite(v)) return false;
        for (T v : l.ssm)
            if (!std::isfinite(v)) return false;
    }
    return true;
}

template struct StateT<float>;
template struct StateT<double>;

namespace {

template <typename A, typename B>
double relErr(const StateT<A>& a, const StateT<B>& b) {
    if (a.layers.size() != b.layers.size()) return INFINITY;
    double num = 0, den = 0;
    auto acc = [&](const auto& x, const auto& y) {
        if (x.size() != y.size()) {
            num = INFINITY;
            return;
        }
        for (size_t i = 0; i < x.size(); ++i) {
            const double d = static_cast<double>(x[i]) - static_cast<double>(y[i]);
            num += d * d;
            den += static_cast<double>(y[i]) * static_cast<double>(y[i]);
        }
    };
    for (size_t l = 0; l < a.layers.size(); ++l) {
        acc(a.layers[l].conv, b.layers[l].conv);
        acc(a.layers[l].ssm, b.layers[l].ssm);
    }
    if (num == 0) return 0;
    return std::sqrt(num / std::max(den, 1e-300));
}

} // namespace

double stateRelativeError(const State& a, const ReferenceState& b) { return relErr(a, b); }
double stateRelativeError(const State& a, const State& b) { return relErr(a, b); }

} // namespace mfx
