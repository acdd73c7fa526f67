#pragma once
// The CUDA render backend (Kernels/README.md has the design). Plain C++ header (no CUDA types), so the
// apps, tests and benchmark can use its extras: options, device-resident rendering, kernel timings.
//
// Streams of any length go through in windows of `windowSamples` per stream; the conv window and SSM
// state of every layer and stream carry from window to window (and from call to call), so the output
// does not depend on the window size and getState() after n samples is the real-time engine's state.
#include "Backend/Backend.h"

#include <cstddef>
#include <memory>
#include <string>

namespace mfx::cuda {

enum class Pipeline {
    Chunked,  // the time-parallel chunked scan (kernels A, B, C per layer)
    Baseline, // benchmark baseline: materialised activations + one warp per channel walking time
};

struct CudaOptions {
    std::size_t windowSamples = 0;             // per stream per window; 0: maxSamplesInFlight / streams
    std::size_t maxSamplesInFlight = 1u << 23; // all streams together; bounds GPU memory (see README)
    bool profile = false;                      // time every kernel with events (adds a sync per kernel)
    bool fastMath = true;                      // scan decay by ex2.approx, fast SiLU (README: Accuracy)
    int statesPerThread = 0;                   // SSM states per scan thread (power of two); 0: automatic
    int tile = 0;                              // time steps per tile (32, 64 or 128); 0: automatic
    int chunkWaves = 4;                        // chunk blocks per window: this many waves of the device
    bool prefetch = true;                      // next tile's inputs into registers during the scan
    bool poisonSharedMemory = false;           // tests: NaN-fill each block's shared memory first
};

// Accumulated GPU milliseconds per kernel kind (profile mode only).
struct KernelTimes {
    double localScan = 0, carryScan = 0, finish = 0;            // chunked pipeline
    double materialize = 0, baselineScan = 0, finishFromY = 0; // baseline pipeline
};

class CudaBackend final : public RenderBackend {
public:
    // Throws ModelError if the device cannot be used.
    explicit CudaBackend(int device, const CudaOptions& options = {});
    ~CudaBackend() override;

    std::string name() const override;
    void prepare(const Model& model, int numStreams) override; // throws ModelError if unsupported
    void process(const float* const* in, float* const* out, int count, std::size_t n,
                 const float* const* cond = nullptr) override;
    void setConditioning(const float* values) override;
    void reset() override;
    State getState(int stream) const override;
    void setState(int stream, const State& state) override;

    // Device-resident rendering (benchmarks, trainer): dIn/dOut are device pointers holding `count`
    // streams of n samples, stream s at offset s * stride. Held conditioning. Returns when done.
    void processDevice(const float* dIn, float* dOut, int count, std::size_t n, std::size_t stride);

    void setPipeline(Pipeline pipeline); // allocates the baseline's buffers on first use
    const KernelTimes& kernelTimes() const;
    void clearKernelTimes();
    std::size_t windowSamples() const;   // after prepare()
    int chunkLength(int windowLen, int count) const; // time steps per chunk block for such a window
    int device() const;

    // Device memory for callers without CUDA headers (benchmarks, tests).
    static float* deviceAlloc(std::size_t floats);
    static void deviceFree(float* p) noexcept;
    static void copyToDevice(float* dst, const float* src, std::size_t floats);
    static void copyToHost(float* dst, const float* src, std::size_t floats);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace mfx::cuda
