#pragma once
// SIMD kernels of the CPU engines, compiled for several instruction sets (Highway dynamic dispatch:
// SSE4, AVX2, AVX-512, ...) and chosen at run time. The per-target bodies and their formulas are in
// KernelOps-inl.h and MathOps-inl.h; the whole-block sequence is kernels::runBlock (BlockRunner.h),
// with a one-sample path for small blocks (SampleStep-inl.h). Row-major buffers,
// every vector dimension padded to kLanes. Each output element's arithmetic depends only on its own
// row, never on how many rows are processed at once: block size does not change results.
#include <cstddef>

namespace mfx::kernels {

// y[t, j] = (accumulate ? y[t, j] : bias[j] or 0) + sum_k x[t, k] * Wt[k, j], summed as four interleaved
// partial FMA chains (k = s mod 4, ascending) added as (p0 + p1) + (p2 + p3): KernelOps-inl.h LinearAcc
void linear(const float* x, std::size_t xStride, std::size_t rows, int inDim, const float* Wt, int outP,
            const float* bias, float* y, std::size_t yStride, bool accumulate) noexcept;

// v = softplus(v) = v > 20 ? v : log1p(exp(v)), in place over n floats (n a multiple of kLanes)
void softplus(float* v, std::size_t n) noexcept;

// y = exp(x) with the engine's fast exp (relative error < 2e-7 for x in [-87, 88]); n a multiple of kLanes
void fastExp(const float* x, float* y, std::size_t n) noexcept;
// y = exp(-x) as SiLU computes it: fastExp of -x, bit for bit; n a multiple of kLanes
void fastExpNeg(const float* x, float* y, std::size_t n) noexcept;

// y = 2^x with the scan's fast exp2 (relative error < 3e-7 for x in [-125, 127]); n a multiple of kLanes
void fastExp2(const float* x, float* y, std::size_t n) noexcept;

// y = 2^x as the selective scan computes exp(dt A) from x = dt A log2 e <= 0 (x >= -125): on 16-lane
// targets the table-based Exp2Sixteenths, else fastExp2 (relative error < 3e-7 either way); n a multiple of kLanes
void scanDecay(const float* x, float* y, std::size_t n) noexcept;

// y = SiLU(x) = x / (1 + exp(-x)) as every engine path computes it (fast exp, then a
// division); n a multiple of kLanes
void silu(const float* x, float* y, std::size_t n) noexcept;

// Name of the instruction set the kernels run on (e.g. "AVX3" = AVX-512, "AVX2"), from a dispatched call.
const char* targetName() noexcept;

// Restricts run-time dispatch to `name` (a Highway target name, any case: "AVX2", "SSE4", ...) for
// the whole process, e.g. to measure the path an AVX2-only CPU takes on an AVX-512 one. Returns false
// (dispatch stays as it was) if this build has no such target or this CPU lacks it. `available`
// (if given) receives the targets that are both, best first, in either case.
bool limitTargets(const char* name, const char** available = nullptr);

} // namespace mfx::kernels
