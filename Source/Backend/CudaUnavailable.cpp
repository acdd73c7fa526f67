// Linked instead of Kernels/ when MambaFX is built without CUDA.
#include "Backend.h"
#include "../Train/GradientBackend.h"

namespace mfx {

std::unique_ptr<RenderBackend> makeCudaBackend(int, const Config&, std::string& whyNot) {
    whyNot = "this build of MambaFX has no CUDA backend (configure with -DMFX_CUDA=ON and a CUDA toolkit)";
    return nullptr;
}

int cudaDeviceCount() { return 0; }

} // namespace mfx

namespace mfx::train {

std::unique_ptr<GradientBackend> makeCudaGradientBackend(int, const Config&, std::string& whyNot) {
    whyNot = "this build of MambaFX has no CUDA backend (configure with -DMFX_CUDA=ON and a CUDA toolkit)";
    return nullptr;
}

} // namespace mfx::train
