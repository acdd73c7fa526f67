#pragma once
// Whole-file rendering backends: the offline CPU path and (when built) CUDA. A backend renders many
// independent streams (channels of one file, or many files) of one model, each with its own state,
// in pieces of any length: rendering in pieces equals rendering whole.
#include "../Engine/OfflineRenderer.h"
#include "../Engine/State.h"
#include "../Model/Weights.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace mfx {

class RenderBackend {
public:
    virtual ~RenderBackend() = default;
    virtual std::string name() const = 0; // e.g. "cpu (2 threads)", "cuda:0 (NVIDIA H200)"

    // Prepares `numStreams` streams of `model`, all state zero. Throws ModelError if unsupported.
    virtual void prepare(const Model& model, int numStreams) = 0;
    // Renders n samples of each stream s in [0, count): in[s] -> out[s]; cond[s] is (n, nCond) or
    // nullptr / cond == nullptr for the held conditioning values.
    virtual void process(const float* const* in, float* const* out, int count, std::size_t n,
                         const float* const* cond = nullptr) = 0;
    virtual void setConditioning(const float* values) = 0;
    virtual void reset() = 0;
    virtual State getState(int stream) const = 0;
    virtual void setState(int stream, const State& state) = 0;
    // True when the output is bitwise the real-time engine's (the CPU path with its lane scan); false
    // for other arithmetic (the chunked scan, CUDA), whose float32 fixed points under silence lie a
    // rounding error from the engine's.
    virtual bool bitwiseEngine() const { return false; }
};

// The CPU offline path behind the backend interface.
std::unique_ptr<RenderBackend> makeCpuBackend(const OfflineOptions& options = {});

// Implemented by Kernels/ when built with CUDA, else by Backend/CudaUnavailable.cpp.
// Returns nullptr and sets `whyNot` when no usable device exists or the model's shape is not
// supported (the caller then falls back to the CPU path and prints whyNot).
std::unique_ptr<RenderBackend> makeCudaBackend(int deviceIndex, const Config& config, std::string& whyNot);
int cudaDeviceCount(); // 0 when built without CUDA or no device/driver

// A parsed device string: "auto" | "cpu" | "cuda" | "cuda:N". Throws ModelError when malformed.
struct DeviceChoice {
    enum class Kind { Cpu, Auto, Cuda } kind = Kind::Auto;
    int index = 0; // CUDA device for Cuda (and Auto's first choice)
};
DeviceChoice parseDevice(const std::string& device);

// "auto" | "cpu" | "cuda" | "cuda:N". Falls back to CPU with a message in `notice` where needed.
// Throws ModelError for a malformed device string.
std::unique_ptr<RenderBackend> makeBackend(const std::string& device, const Config& config,
                                           const OfflineOptions& cpuOptions, std::string& notice);

} // namespace mfx
