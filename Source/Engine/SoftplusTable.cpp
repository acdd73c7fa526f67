#include "SoftplusTable.h"

#include <cmath>
#include <utility>

namespace mfx::kernels {
namespace {

constexpr int kN = SoftplusTable::kDegree + 1;

// x (kN) <- the solution of M x = b by Gaussian elimination with partial pivoting (M: a Vandermonde
// matrix of kN nodes in [-1/2, 1/2], well conditioned at this size).
void solve(double (&M)[kN][kN], double (&b)[kN], double (&x)[kN]) {
    for (int c = 0; c < kN; ++c) {
        int p = c;
        for (int r = c + 1; r < kN; ++r)
            if (std::abs(M[r][c]) > std::abs(M[p][c])) p = r;
        for (int k = 0; k < kN; ++k) std::swap(M[c][k], M[p][k]);
        std::swap(b[c], b[p]);
        for (int r = c + 1; r < kN; ++r) {
            const double f = M[r][c] / M[c][c];
            for (int k = c; k < kN; ++k) M[r][k] -= f * M[c][k];
            b[r] -= f * b[c];
        }
    }
    for (int r = kN - 1; r >= 0; --r) {
        double s = b[r];
        for (int k = r + 1; k < kN; ++k) s -= M[r][k] * x[k];
        x[r] = s / M[r][r];
    }
}

SoftplusTable make() {
    const double pi = std::acos(-1.0);
    SoftplusTable t{};
    for (int j = 0; j < SoftplusTable::kIntervals; ++j) {
        double M[kN][kN], b[kN], coef[kN];
        for (int i = 0; i < kN; ++i) {
            const double u = 0.5 * std::cos((2 * i + 1) * pi / (2 * kN)); // Chebyshev node in [-1/2, 1/2]
            double p = 1.0;
            for (int k = 0; k < kN; ++k, p *= u) M[i][k] = p;
            b[i] = std::log1p(std::exp(-(j + u)));
        }
        solve(M, b, coef);
        for (int k = 0; k < kN; ++k) t.c[k][j] = static_cast<float>(coef[k]);
    }
    return t;
}

} // namespace

const SoftplusTable kSoftplusTable = make();

} // namespace mfx::kernels
