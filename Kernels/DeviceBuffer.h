#pragma once
// Owning handles for device memory (cudaMalloc) and pinned host memory (cudaMallocHost).
// Allocation failures throw ModelError (CudaCheck.h); freeing never throws.
#include "CudaCheck.h"

#include <cstddef>
#include <utility>

namespace mfx::cuda {

template <typename T, bool kPinnedHost = false>
class Buffer {
public:
    Buffer() = default;
    explicit Buffer(std::size_t n) { allocate(n); }
    ~Buffer() { release(); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    Buffer(Buffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    Buffer& operator=(Buffer&& o) noexcept {
        if (this != &o) {
            release();
            p_ = std::exchange(o.p_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }

    void allocate(std::size_t n) {
        release();
        if (n == 0) return;
        void* p = nullptr;
        const cudaError_t e = kPinnedHost ? cudaMallocHost(&p, n * sizeof(T)) : cudaMalloc(&p, n * sizeof(T));
        if (e != cudaSuccess) {
            static_cast<void>(cudaGetLastError()); // an allocation failure must not surface again at the next launch check
            throwCudaError(e, kPinnedHost ? "cudaMallocHost" : "cudaMalloc", __FILE__, __LINE__);
        }
        p_ = static_cast<T*>(p);
        n_ = n;
    }
    void release() noexcept {
        if (p_) {
            if constexpr (kPinnedHost) MFX_CUDA_IGNORE(cudaFreeHost(p_));
            else MFX_CUDA_IGNORE(cudaFree(p_));
        }
        p_ = nullptr;
        n_ = 0;
    }

    T* get() const noexcept { return p_; }
    std::size_t size() const noexcept { return n_; }

private:
    T* p_ = nullptr;
    std::size_t n_ = 0;
};

template <typename T> using DeviceBuffer = Buffer<T, false>;
template <typename T> using PinnedBuffer = Buffer<T, true>;

} // namespace mfx::cuda
