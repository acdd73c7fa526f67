// makeGradientBackend: the device string (as for rendering) to a gradient backend, with the CPU as
// the fallback. In a file of its own so that only callers that can reach CUDA link the CUDA symbol.
#include "GradientBackend.h"
#include "../Backend/Backend.h"

namespace mfx::train {

std::unique_ptr<GradientBackend> makeGradientBackend(const std::string& device, const Config& config, int threads,
                                                     std::string& notice) {
    notice.clear();
    const DeviceChoice choice = parseDevice(device);
    if (choice.kind == DeviceChoice::Kind::Cpu) return makeCpuGradientBackend(config, threads);
    if (choice.kind == DeviceChoice::Kind::Auto && cudaDeviceCount() == 0)
        return makeCpuGradientBackend(config, threads); // quietly: auto means "GPU if present"
    std::string whyNot;
    auto gpu = makeCudaGradientBackend(choice.index, config, whyNot);
    if (gpu) return gpu;
    notice = (choice.kind == DeviceChoice::Kind::Cuda ? "CUDA requested but not usable: " : "no usable GPU: ") + whyNot +
             "; training on the CPU instead";
    return makeCpuGradientBackend(config, threads);
}

} // namespace mfx::train
