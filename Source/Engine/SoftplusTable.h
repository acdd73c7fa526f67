#pragma once
// Coefficients of the engine's piecewise-polynomial log1p(exp(-t)) (MathOps-inl.h SoftplusV on
// 16-lane targets): on each interval t in [j - 1/2, j + 1/2], j = 0..31,
//   log1p(exp(-(j + u))) ~ sum_{k=0..6} c[k][j] u^k,   u in [-1/2, 1/2],
// the degree-6 polynomial through the function at the 7 Chebyshev nodes of the interval, computed
// in double and rounded to float. Relative error of the float evaluation < 3e-7 for t in [0, 31.5]
// (Tests/Core KernelTests). The table is filled during static initialisation, before main: no engine
// may run from another translation unit's static initialiser.

namespace mfx::kernels {

struct SoftplusTable {
    static constexpr int kDegree = 6;
    static constexpr int kIntervals = 32; // one 512-bit two-register permute per coefficient
    alignas(64) float c[kDegree + 1][kIntervals]; // (kDegree + 1, kIntervals)
};

extern const SoftplusTable kSoftplusTable;

} // namespace mfx::kernels
