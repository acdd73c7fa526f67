#pragma once
// Measured ceilings of the device, for the benchmark's floors (METHOD.md: measure, don't trust datasheets).
#include <string>

namespace mfx::cuda {

struct DeviceCeilings {
    std::string name;
    int smCount = 0;
    double copyGBs = 0;     // device-to-device copy, bytes read + written per second / 1e9
    double fp32Tflops = 0;  // FFMA, 2 FLOP each
    double expfGops = 0;    // expf() as the scan uses it (MUFU.EX2 + range handling)
};

// Runs the three probes on `device` (about a second). Throws ModelError on CUDA errors.
DeviceCeilings measureDeviceCeilings(int device);

} // namespace mfx::cuda
