#pragma once
// A WaveNet of Neural Amp Modeler's "standard" architecture, re-implemented for timing only: the model
// class that made the amp-capture targets (`wavenet_a1_standard.nam`, 13,801 parameters), against
// whose cost the Capture issue sets MambaFX's budget (a third of it). NAM's code is not in Debian, so
// this is NAM's algorithm written again (docs/PERFORMANCE.md, "Against a NAM WaveNet"): two layer
// arrays of ten dilated-conv layers each (channels 16 then 8, kernel 3, dilations 1..512, tanh, not
// gated), the input as every layer's condition, head accumulation across the arrays, head scale 0.02;
// processed in blocks with Eigen matrix products and a per-layer history buffer, as NAM's own C++
// does. Random weights (the cost does not depend on them).
//
// Per layer, for a block of n samples (x: the layer's input, (channels, n), with its history):
//   z = sum_k W_k x[t - (K-1-k) d] + b + mixin * cond[t];   z = tanh(z)
//   head += z;   x_next = x + W1x1 z + b1x1
// Per array: x_0 = rechannel * input;  head_out = headRechannel * head (+ bias);  array 2's input is
// array 1's last x, its head starts from array 1's head_out; out = 0.02 * array 2's head_out.
#include <cstdint>
#include <memory>
#include <vector>

namespace mfx::bench {

struct NamArrayConfig {
    int inputSize, conditionSize, channels, headSize, kernelSize;
    std::vector<int> dilations;
    bool headBias;
};
std::vector<NamArrayConfig> namStandard(); // NAM's "standard" WaveNet
constexpr float kNamHeadScale = 0.02f;

// Row-major (out, in) matrices.
struct NamLayerWeights {
    std::vector<std::vector<float>> conv; // kernelSize x (channels, channels); conv[k] applies to x[t - (K-1-k) d]
    std::vector<float> convBias;          // (channels)
    std::vector<float> mixin;             // (channels, conditionSize)
    std::vector<float> w1x1;              // (channels, channels)
    std::vector<float> b1x1;              // (channels)
};
struct NamArrayWeights {
    std::vector<float> rechannel;     // (channels, inputSize), no bias
    std::vector<NamLayerWeights> layers;
    std::vector<float> headRechannel; // (headSize, channels)
    std::vector<float> headBias;      // (headSize) or empty
};
struct NamWeights {
    std::vector<NamArrayConfig> config;
    std::vector<NamArrayWeights> arrays;
    int parameterCount() const;
};
NamWeights randomNamWeights(const std::vector<NamArrayConfig>& config, std::uint64_t seed);

class NamWaveNet {
public:
    virtual ~NamWaveNet() = default;
    virtual void process(const float* in, float* out, int n) = 0; // any n; state carries over
    virtual void reset() = 0;                                     // zero history
};
// The block implementation (NamWaveNetBlock.cpp), which each executable compiles for one target: the
// baseline x86-64 (SSE2, as a plain build of NAM) or AVX2 + FMA. One target per executable, because
// Eigen's templates instantiated with different instruction sets in one program would be merged by the
// linker (one definition each), so one build would silently run the other's code. maxBlock: the
// largest block per Eigen pass.
std::unique_ptr<NamWaveNet> makeNamBlock(const NamWeights& w, int maxBlock); // nullptr where !namBuildRunsHere()
extern const char* const kNamBuildName; // "baseline x86-64 build" or "AVX2 + FMA build"
extern const bool kNamBuildNeedsAvx2;   // data, not code: read before any AVX2 code runs
bool cpuHasAvx2Fma();                   // (NamWaveNet.cpp, baseline code)
inline bool namBuildRunsHere() { return !kNamBuildNeedsAvx2 || cpuHasAvx2Fma(); }

// The same network one sample at a time with plain loops over the whole signal (zero history), in
// double: the reference the block implementations are tested against.
std::vector<double> namNaive(const NamWeights& w, const std::vector<float>& in);

} // namespace mfx::bench
