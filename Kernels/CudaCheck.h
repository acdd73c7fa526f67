#pragma once
// Every CUDA runtime call and every kernel launch in Kernels/ is checked: a failure throws ModelError
// naming the call, the CUDA error and file:line. (Destructors use MFX_CUDA_IGNORE: they never throw.)
#include "Model/ModelError.h"

#include <cuda_runtime.h>

#include <string>

namespace mfx::cuda {

// True when CUDA device `index` exists; otherwise false with the reason in whyNot (no driver, no
// device, or an index out of range). Used by both factories (render and training).
inline bool deviceExists(int index, std::string& whyNot) {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        static_cast<void>(cudaGetLastError()); // clear the sticky error: not an error for the caller
        // the runtime reports "driver version is insufficient" when there is no NVIDIA driver at all
        if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice)
            whyNot = e == cudaErrorNoDevice ? "no CUDA device found"
                                            : "no usable CUDA device: no NVIDIA driver is loaded, or it is older than this build's "
                                              "CUDA runtime needs";
        else
            whyNot = std::string("no usable CUDA device") + (e != cudaSuccess ? std::string(" (") + cudaGetErrorString(e) + ")" : "");
        return false;
    }
    if (index < 0 || index >= n) {
        whyNot = "CUDA device " + std::to_string(index) + " does not exist (" + std::to_string(n) + " found: 0.." + std::to_string(n - 1) + ")";
        return false;
    }
    return true;
}

[[noreturn]] inline void throwCudaError(cudaError_t e, const char* what, const char* file, int line) {
    throw ModelError(std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in `" +
                     what + "` at " + file + ":" + std::to_string(line));
}

} // namespace mfx::cuda

#define MFX_CUDA_CHECK(call)                                                                 \
    do {                                                                                     \
        const cudaError_t mfxCudaErr_ = (call);                                              \
        if (mfxCudaErr_ != cudaSuccess) ::mfx::cuda::throwCudaError(mfxCudaErr_, #call, __FILE__, __LINE__); \
    } while (0)

// After a <<<...>>> launch: configuration errors show up here, asynchronous faults at the next sync.
#define MFX_CUDA_CHECK_LAUNCH(kernelName)                                                    \
    do {                                                                                     \
        const cudaError_t mfxCudaErr_ = cudaGetLastError();                                  \
        if (mfxCudaErr_ != cudaSuccess) ::mfx::cuda::throwCudaError(mfxCudaErr_, "launch of " kernelName, __FILE__, __LINE__); \
    } while (0)

#define MFX_CUDA_IGNORE(call) static_cast<void>(call)
