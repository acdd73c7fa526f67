#pragma once
// The model rearranged for the CPU kernels: every vector dimension padded to kLanes floats with
// zeros, matrices transposed to (in, outPadded) so kernels vectorise over outputs, A = -exp(A_log)
// precomputed (times log2 e, for the kernels' exp2) and transposed to (dState, dInnerP). Immutable once built; shared by every engine
// (real-time, offline) made from it. Padded lanes hold zero weights and stay zero (or finite).
#include "../Model/Weights.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace mfx {

inline constexpr int kLanes = 16; // widest float vector (AVX-512); all padding is a multiple of it

inline int padLanes(int n) { return (n + kLanes - 1) / kLanes * kLanes; }

// 64-byte aligned float storage.
class AlignedFloats {
public:
    AlignedFloats() = default;
    explicit AlignedFloats(std::size_t n) { resize(n); }
    void resize(std::size_t n);
    float* data() noexcept { return data_.get(); }
    const float* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }
    float& operator[](std::size_t i) noexcept { return data_.get()[i]; }
    const float& operator[](std::size_t i) const noexcept { return data_.get()[i]; }

private:
    struct Free { void operator()(float* p) const noexcept; };
    std::unique_ptr<float[], Free> data_;
    std::size_t size_ = 0;
};

struct PreparedLayer {
    AlignedFloats norm;     // (dModelP) the RMSNorm weight (folded into inProjT; kept for reference)
    AlignedFloats inProjT;  // (dModel, 2*dInnerP): columns [x | z], row k times norm[k] (RMSNorm weight folded in)
    AlignedFloats convW;    // (dConv, dInnerP): tap k multiplies the input from dConv-1-k steps ago
    AlignedFloats convB;    // (dInnerP)
    AlignedFloats xProjBC;  // (dInner, bcP): x_proj's B and C columns [B (dState) | C (dState) | pad]
    AlignedFloats xProjDt;  // (dtRank, dInnerP): x_proj's dt rows, each a vector over the inputs
    AlignedFloats dtProjT;  // (dtRank, dInnerP)
    AlignedFloats dtBias;   // (dInnerP)
    AlignedFloats Alog2e;   // (dState, dInnerP): A log2(e) = -exp(A_log) log2(e), transposed, so exp(dt A) = 2^(dt Alog2e); pad lanes -1
    AlignedFloats A16;      // (dState, dInnerP): 16 Alog2e (exact), the scan's input on 16-lane targets (KernelOps-inl.h Exp2Sixteenths)
    AlignedFloats D;        // (dInnerP)
    AlignedFloats outProjT; // (dInner, dModelP)
};

class PreparedModel {
public:
    explicit PreparedModel(const Model& model); // validates; throws ModelError

    const Model& model() const noexcept { return model_; }
    const Config& config() const noexcept { return model_.config; }
    std::size_t memoryBytes() const noexcept; // the padded arrays

    int dModelP, dInnerP, bcP; // bcP = 2 dState padded
    AlignedFloats embT;  // (1 + nCond, dModelP)
    AlignedFloats embB;  // (dModelP)
    std::vector<PreparedLayer> layers;
    AlignedFloats normF; // (dModelP) norm_f weight (folded into headW; kept for reference)
    AlignedFloats headW; // (dModelP) head weight times normF
    float headB = 0, skip = 0;

private:
    Model model_;
};

} // namespace mfx
