#pragma once
// Runs a block of rows (time steps) of one channel through the whole model, layer by layer, using the
// SIMD kernels. Shared by the real-time engine (small blocks, inline) and the offline path (long
// buffers, thread pool), so both compute every sample with identical arithmetic.
#include "Executor.h"
#include "PreparedModel.h"
#include "State.h"

#include <cstddef>
#include <vector>

namespace mfx {

// One channel's persistent state in the kernels' layout.
struct ChannelState {
    std::vector<AlignedFloats> conv; // per layer (dConv - 1, dInnerP): past conv inputs, oldest row first
    std::vector<AlignedFloats> ssm;  // per layer (dState, dInnerP): h

    explicit ChannelState(const PreparedModel& pm);
    void reset() noexcept;
    void assign(const ChannelState& other) noexcept; // same model: copies the values, never allocates
    State toState(const PreparedModel& pm) const;
    void fromState(const PreparedModel& pm, const State& s); // throws ModelError on shape mismatch
    std::size_t memoryBytes() const noexcept;
};

// Scratch buffers for a block of up to maxRows rows.
struct BlockScratch {
    AlignedFloats inSan;  // (maxRows) sanitised input samples
    AlignedFloats feat;   // (maxRows, 1 + nCond) [sample, cond...]
    AlignedFloats r;      // (maxRows, dModelP) residual stream
    AlignedFloats scale;  // (maxRows) RMSNorm scale of each row of r
    AlignedFloats xz;     // (maxRows, 2*dInnerP) in_proj output [x | z]
    AlignedFloats window; // (dConv - 1 + maxRows, dInnerP) conv inputs with history
    AlignedFloats xc;     // (maxRows, dInnerP) SiLU(conv(x))
    AlignedFloats dtr;    // (maxRows, dtRank) x_proj output, dt part
    AlignedFloats bc;     // (maxRows, bcP) x_proj output, [B | C]
    AlignedFloats dt;     // (maxRows, dInnerP)
    AlignedFloats y;      // (maxRows, dInnerP) gated scan output
    // time-chunked scan only (numChunks > 0)
    int numChunks = 0;
    AlignedFloats chunkH;  // (numChunks, dState, dInnerP) local h_end, then the chunk's true initial h
    AlignedFloats chunkS;  // (numChunks, dInnerP) sum of dt over the chunk
};

// One block's inputs and outputs. cond: (rows, condStride) per-sample values, or nullptr to use
// `held` (nCond). `out` may alias `in`.
struct BlockIo {
    const float* in;
    const float* cond;
    std::size_t condStride;
    const float* held;
    float* out;
    std::size_t rows;
};

namespace kernels {
// The whole model over one block (Kernels.cpp): one dispatch per block. ex == nullptr runs inline.
void runBlock(const PreparedModel& pm, ChannelState& st, BlockScratch& s, const BlockIo& io, Executor* ex) noexcept;
} // namespace kernels

class BlockRunner {
public:
    // timeChunks > 0 selects the time-chunked scan with that many chunks per block (offline only).
    BlockRunner(const PreparedModel& pm, std::size_t maxRows, int timeChunks = 0);

    std::size_t maxRows() const noexcept { return maxRows_; }
    std::size_t scratchBytes() const noexcept;

    // rows <= maxRows. cond: (rows, condStride) per-sample values, or nullptr to use `held` (nCond).
    // `out` may alias `in`.
    void run(ChannelState& st, const float* in, const float* cond, std::size_t condStride, const float* held,
             float* out, std::size_t rows, Executor* ex) noexcept {
        kernels::runBlock(pm_, st, s_, BlockIo{in, cond, condStride, held, out, rows}, ex);
    }

private:
    const PreparedModel& pm_;
    std::size_t maxRows_;
    BlockScratch s_;
};

} // namespace mfx
