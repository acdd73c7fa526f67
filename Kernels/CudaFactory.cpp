// The two functions the core's Backend.h asks Kernels/ for, and small device-memory helpers.
#include "CudaBackend.h"

#include "CudaCheck.h"
#include "Launch.h"
#include "ShapeSupport.h"

namespace mfx {

int cudaDeviceCount() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        MFX_CUDA_IGNORE(cudaGetLastError()); // no driver / no device: not an error for the caller
        return 0;
    }
    return n;
}

std::unique_ptr<RenderBackend> makeCudaBackend(int deviceIndex, const Config& config, std::string& whyNot) {
    std::string why;
    if (!cuda::shapeSupported(config, why)) {
        whyNot = why;
        return nullptr;
    }
    if (!cuda::deviceExists(deviceIndex, whyNot)) return nullptr;
    try {
        int smem = 0;
        MFX_CUDA_CHECK(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, deviceIndex));
        if (!cuda::shapeSupported(config, why, smem)) {
            whyNot = why;
            return nullptr;
        }
        return std::make_unique<cuda::CudaBackend>(deviceIndex);
    } catch (const ModelError& err) {
        whyNot = err.what();
        return nullptr;
    }
}

namespace cuda {

float* CudaBackend::deviceAlloc(std::size_t floats) {
    void* p = nullptr;
    MFX_CUDA_CHECK(cudaMalloc(&p, floats * sizeof(float)));
    return static_cast<float*>(p);
}
void CudaBackend::deviceFree(float* p) noexcept { MFX_CUDA_IGNORE(cudaFree(p)); }
void CudaBackend::copyToDevice(float* dst, const float* src, std::size_t floats) {
    MFX_CUDA_CHECK(cudaMemcpy(dst, src, floats * sizeof(float), cudaMemcpyHostToDevice));
    // From pageable memory the call may return before the DMA lands; backends run on non-blocking
    // streams that would not wait for it.
    MFX_CUDA_CHECK(cudaDeviceSynchronize());
}
void CudaBackend::copyToHost(float* dst, const float* src, std::size_t floats) {
    MFX_CUDA_CHECK(cudaMemcpy(dst, src, floats * sizeof(float), cudaMemcpyDeviceToHost));
}

} // namespace cuda
} // namespace mfx
