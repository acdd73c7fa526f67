#pragma once
// The CPU trainer's forward and exact backward pass over one segment from zero state: the same
// function as SegmentPass<float> (Tape.h, the portable tape that the float64 gradient check
// validates), computed with SIMD kernels compiled for several instruction sets and chosen at run
// time (Highway, as the engine's kernels), and with far less memory traffic:
//  - every vector dimension is padded to kLanes floats (zero weights in the padding), channels are
//    the vector lanes, matrices are stored as the kernels read them;
//  - the SSM state is kept only every kCheckpoint steps; the backward pass recomputes each chunk's
//    states from its checkpoint into a cache-sized buffer and runs the reverse-time scan over it;
//  - weight gradients are register-blocked sums over the whole segment.
// The formulas of each step are in FastTape.cpp above the code that computes them.
#include "../Engine/PreparedModel.h"
#include "Params.h"

#include <cstddef>
#include <vector>

namespace mfx::train {

inline constexpr std::size_t kCheckpoint = 32; // scan steps between saved SSM states

// The padded shapes of a model, shared by its parameters, gradients and tape.
struct FastShape {
    explicit FastShape(const Config& c);
    Config c;
    int F, dMP, P, XOP; // 1 + nCond; dModel, dInner, dtRank + 2 dState padded to kLanes
};

// Parameters (or their gradients) in the kernels' layouts. Matrices that the forward pass reads
// transposed (in, outP) are named ...T; the gradient of each is kept in the un-transposed (out, inP)
// form the backward pass reads (...B). Padding is zero.
struct FastTensors {
    explicit FastTensors(const FastShape& s, bool forParameters);
    struct Layer {
        AlignedFloats norm;     // (dMP)
        AlignedFloats inProjT;  // (dModel, 2P): columns [x | z]                 (parameters only)
        AlignedFloats inProjB;  // (2P, dMP): row j < P is x channel j, row P + j is z channel j
        AlignedFloats convW;    // (dConv, P): tap k multiplies the input from dConv-1-k steps ago
        AlignedFloats convB;    // (P)
        AlignedFloats xProjT;   // (dInner, XOP): columns [dt | B | C]                (parameters only)
        AlignedFloats xProjB;   // (dtRank + 2 dState, P)
        AlignedFloats dtWT;     // (dtRank, P)
        AlignedFloats dtB;      // (P)
        AlignedFloats A;        // (dState, P): A = -exp(A_log) (pad -1); gradients: d/dA
        AlignedFloats Alog2e;   // (dState, P): A log2 e, the scan's exp input (parameters only)
        AlignedFloats A16;      // (dState, P): 16 A log2 e, the same on 16-lane targets (parameters only)
        AlignedFloats D;        // (P)
        AlignedFloats outProjT; // (dInner, dMP)                                      (parameters only)
        AlignedFloats outProjB; // (dModel, P)
    };
    AlignedFloats embT;  // (F, dMP)
    AlignedFloats embB;  // (dMP)
    std::vector<Layer> layers;
    AlignedFloats normF; // (dMP)
    AlignedFloats headW; // (dMP)
    float headB = 0, skip = 0;
};

// The parameters of one training step, converted from the trainer's flat float64 vector.
struct FastParams {
    explicit FastParams(const Config& c);
    void set(const std::vector<double>& flat); // (layout.total), tensorTable order
    ParamLayout layout;
    FastShape shape;
    FastTensors t;
};

// grad (layout.total) += the padded gradients g (of a FastSegmentPass with parameters p).
void addFastGradients(const FastParams& p, FastTensors& g, float* grad);

// Everything one segment's forward and backward passes keep (resized to the longest segment seen).
struct FastTapeBuffers {
    explicit FastTapeBuffers(const FastShape& s) : g(s, false) {}
    std::size_t L = 0, cap = 0;
    AlignedFloats feat;  // (L, F) sanitised [sample, cond...]
    struct Layer {
        AlignedFloats rIn;   // (L, dMP)  residual entering the block
        AlignedFloats rstd;  // (L)       1/sqrt(mean(r^2)+eps)
        AlignedFloats u;     // (L, dMP)  RMSNorm output
        AlignedFloats xz;    // (L, 2P)   in_proj output: x | z
        AlignedFloats xw;    // (dConv-1+L, P) conv input window: dConv-1 zero rows (zero state), then x
        AlignedFloats xpre;  // (L, P)    conv output before SiLU
        AlignedFloats xc;    // (L, P)    SiLU(conv)
        AlignedFloats xdb;   // (L, XOP)  x_proj output: dt | B | C
        AlignedFloats dtLin; // (L, P)    dt_proj(dt) + bias
        AlignedFloats dt;    // (L, P)    softplus(dtLin)
        AlignedFloats hck;   // (L / kCheckpoint + 1, dState, P)  h before steps 0, kCheckpoint, 2 kCheckpoint, ...
        AlignedFloats yss;   // (L, P)    C.h + D x
        AlignedFloats gated; // (L, P)    yss * SiLU(z)
    };
    std::vector<Layer> layers;
    AlignedFloats rF;    // (L, dMP) residual entering norm_f
    AlignedFloats rstdF; // (L)
    AlignedFloats f;     // (L, dMP) norm_f output
    // backward scratch
    AlignedFloats gr, gu;        // (L, dMP)
    AlignedFloats gxz;           // (L, 2P)
    AlignedFloats gg, gxc, gdt;  // (L, P)
    AlignedFloats gxdb;          // (L, XOP)
    AlignedFloats gh;            // (dState, P) d(loss)/dh carried back across chunks
    AlignedFloats hLoc;          // (kCheckpoint+1, dState, P) recomputed states of one chunk
    AlignedFloats aLoc;          // (kCheckpoint, dState, P)   their decays exp(dt A)
    AlignedFloats vB, vC;        // (kCheckpoint, dState, kLanes) lane-wise terms of gB, gC before their lane sums
    AlignedFloats accX;          // (kCheckpoint, P) sum_n g B of each step
    FastTensors g;               // gradients of the last backward(), padded
};

class FastSegmentPass {
public:
    explicit FastSegmentPass(const Config& c);

    // out (L) = the model's output for in (L) and cond (L, nCond) or nullptr (zeros), from zero state.
    // Saves what backward() needs.
    void forward(const FastParams& p, const float* in, const float* cond, std::size_t L, float* out);

    // Adds d(loss)/d(parameters) into grad (layout.total) given gOut (L) = d(loss)/d(out) of the last forward().
    void backward(const FastParams& p, const float* gOut, float* grad);

private:
    void resize(std::size_t L);
    FastShape s_;
    FastTapeBuffers b_;
};

} // namespace mfx::train
