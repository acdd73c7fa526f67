#pragma once
// Device helpers shared by the training kernels: grid sizing for one thread per element, and the
// scalar functions of the model, written as the CPU tape writes them (Source/Train/TapeKernels.h).
#include <cuda_runtime.h>

namespace mfx::cuda::train {

inline constexpr int kBlock = 256;

// Blocks for one thread per element of `count` with a grid-stride loop.
inline unsigned gridFor(long long count, int block = kBlock) {
    long long b = (count + block - 1) / block;
    if (b < 1) b = 1;
    if (b > (1ll << 20)) b = 1ll << 20;
    return static_cast<unsigned>(b);
}

__device__ __forceinline__ long long globalIndex() { return blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; }
__device__ __forceinline__ long long globalStride() { return static_cast<long long>(gridDim.x) * blockDim.x; }

__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
// SiLU'(v) = s (1 + v (1 - s)),  s = sigmoid(v)
__device__ __forceinline__ float siluGrad(float v) {
    const float s = sigmoidf(v);
    return s * (1.0f + v * (1.0f - s));
}

} // namespace mfx::cuda::train
