#pragma once
// Every CUDA runtime call and every kernel launch in Kernels/ is checked: a failure throws ModelError
// naming the call, the CUDA error and file:line. (Destructors use MFX_CUDA_IGNORE: they never throw.)
#include "Model/ModelError.h"

#include <cuda_runtime.h>

#include <string>

namespace mfx::cuda {

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
