// Ceilings for the benchmark: copy bandwidth, FP32 FMA rate and expf rate, each the best of 5 timed runs.
//   copy:  cudaMemcpyAsync device -> device of 2 GiB; bytes = 2 * size (read + write)
//   fma:   each thread runs 8 independent chains of x = x * a + b, 4096 iterations
//   expf:  each thread runs 8 independent chains of x = expf(x * a) (a < 0 keeps x in (0, 1])
#include "CudaCheck.h"
#include "DeviceBuffer.h"
#include "DeviceProbe.h"

#include <algorithm>

namespace mfx::cuda {

namespace {

constexpr int kIters = 4096;
constexpr int kChains = 8;

__global__ void fmaProbe(float* out, float a, float b) {
    float x[kChains];
#pragma unroll
    for (int c = 0; c < kChains; ++c) x[c] = threadIdx.x * 1e-3f + c;
    for (int i = 0; i < kIters; ++i)
#pragma unroll
        for (int c = 0; c < kChains; ++c) x[c] = fmaf(x[c], a, b);
    float s = 0;
#pragma unroll
    for (int c = 0; c < kChains; ++c) s += x[c];
    out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

__global__ void expProbe(float* out, float a) {
    float x[kChains];
#pragma unroll
    for (int c = 0; c < kChains; ++c) x[c] = 0.5f + threadIdx.x * 1e-4f + c * 1e-2f;
    for (int i = 0; i < kIters / 8; ++i)
#pragma unroll
        for (int c = 0; c < kChains; ++c) x[c] = expf(x[c] * a);
    float s = 0;
#pragma unroll
    for (int c = 0; c < kChains; ++c) s += x[c];
    out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

template <class F>
double bestMs(cudaStream_t st, F&& f) {
    cudaEvent_t a, b;
    MFX_CUDA_CHECK(cudaEventCreate(&a));
    MFX_CUDA_CHECK(cudaEventCreate(&b));
    f(); // warm-up
    double best = 1e30;
    for (int r = 0; r < 5; ++r) {
        MFX_CUDA_CHECK(cudaEventRecord(a, st));
        f();
        MFX_CUDA_CHECK(cudaEventRecord(b, st));
        MFX_CUDA_CHECK(cudaEventSynchronize(b));
        float ms = 0;
        MFX_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
        best = std::min(best, static_cast<double>(ms));
    }
    MFX_CUDA_IGNORE(cudaEventDestroy(a));
    MFX_CUDA_IGNORE(cudaEventDestroy(b));
    return best;
}

} // namespace

DeviceCeilings measureDeviceCeilings(int device) {
    MFX_CUDA_CHECK(cudaSetDevice(device));
    cudaDeviceProp prop{};
    MFX_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DeviceCeilings c;
    c.name = prop.name;
    c.smCount = prop.multiProcessorCount;
    cudaStream_t st = nullptr;
    MFX_CUDA_CHECK(cudaStreamCreate(&st));

    const std::size_t bytes = std::size_t(1) << 31;
    DeviceBuffer<char> src(bytes), dst(bytes);
    MFX_CUDA_CHECK(cudaMemsetAsync(src.get(), 1, bytes, st));
    const double copyMs = bestMs(st, [&] { MFX_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, st)); });
    c.copyGBs = 2.0 * static_cast<double>(bytes) / (copyMs * 1e-3) / 1e9;

    const int blocks = prop.multiProcessorCount * 8, threads = 256;
    DeviceBuffer<float> out(static_cast<std::size_t>(blocks) * threads);
    const double fmaMs = bestMs(st, [&] {
        fmaProbe<<<blocks, threads, 0, st>>>(out.get(), 0.999f, 1e-3f);
        MFX_CUDA_CHECK_LAUNCH("fmaProbe");
    });
    c.fp32Tflops = 2.0 * blocks * threads * double(kIters) * kChains / (fmaMs * 1e-3) / 1e12;
    const double expMs = bestMs(st, [&] {
        expProbe<<<blocks, threads, 0, st>>>(out.get(), -0.7f);
        MFX_CUDA_CHECK_LAUNCH("expProbe");
    });
    c.expfGops = double(blocks) * threads * double(kIters / 8) * kChains / (expMs * 1e-3) / 1e9;
    MFX_CUDA_CHECK(cudaStreamSynchronize(st));
    MFX_CUDA_IGNORE(cudaStreamDestroy(st));
    return c;
}

} // namespace mfx::cuda
