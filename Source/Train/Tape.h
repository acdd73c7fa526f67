#pragma once
// Forward pass over one segment with every activation saved, and its exact backward pass
// (reverse-mode, including the reverse-time scan). Templated on the arithmetic type: float for
// training, double for the gradient check against the float64 reference.
//
// Layout: time-major buffers, one row per sample, e.g. xz is (L, 2*dInner). The SSM states of every
// step are kept, (L+1, dInner, dState), so the backward scan needs no recomputation.
#include "../Engine/State.h"
#include "Params.h"

#include <cstddef>
#include <vector>

namespace mfx::train {

// Parameters converted to T, plus the transposed copies the axpy-form loops read.
template <typename T>
struct PreparedParams {
    explicit PreparedParams(const Config& c);
    void set(const std::vector<double>& flat); // (layout.total)

    ParamLayout layout;
    std::vector<T> flat;
    ParamView<const T> p;
    struct Layer {
        std::vector<T> inProjT;  // (dModel, 2*dInner)
        std::vector<T> xProjT;   // (dInner, dtRank + 2*dState)
        std::vector<T> dtWT;     // (dtRank, dInner)
        std::vector<T> outProjT; // (dInner, dModel)
        std::vector<T> convWT;   // (dConv, dInner)
        std::vector<T> A;        // (dInner, dState)   A = -exp(A_log)
    };
    std::vector<Layer> layers;
};

template <typename T>
class SegmentPass {
public:
    explicit SegmentPass(const Config& c);

    // out (L) = the model's output for in (L) and cond (L, nCond) or nullptr (zeros), starting from
    // `initial` (nullptr: zero state). Saves everything backward() needs. If `final` is given it
    // receives the state after the last sample (for chunked inference).
    void forward(const PreparedParams<T>& pp, const float* in, const float* cond, std::size_t L, T* out,
                 const StateT<T>* initial = nullptr, StateT<T>* final = nullptr);

    // Adds d(loss)/d(parameters) into grad (layout.total) given gOut (L) = d(loss)/d(out) of the
    // last forward(). The initial state is treated as a constant.
    void backward(const PreparedParams<T>& pp, const T* gOut, T* grad);

private:
    struct LayerTape {
        std::vector<T> rIn;   // (L, dModel)   residual entering the block
        std::vector<T> rstd;  // (L)           1/sqrt(mean(r^2)+eps)
        std::vector<T> u;     // (L, dModel)   RMSNorm output
        std::vector<T> xz;    // (L, 2*dInner) in_proj output: x | z
        std::vector<T> hist;  // (dConv-1, dInner) conv inputs before t = 0, oldest first
        std::vector<T> xpre;  // (L, dInner)   conv output before SiLU
        std::vector<T> xc;    // (L, dInner)   SiLU(conv)
        std::vector<T> xdb;   // (L, dtRank + 2*dState)  x_proj output: dt | B | C
        std::vector<T> dtLin; // (L, dInner)   dt_proj(dt) + bias
        std::vector<T> dt;    // (L, dInner)   softplus(dtLin)
        std::vector<T> H;     // (L+1, dInner, dState)  h_t, H[0] = initial state
        std::vector<T> yss;   // (L, dInner)   C.h + D*x
    };
    void resize(std::size_t L);

    Config c_;
    std::size_t L_ = 0, cap_ = 0;
    std::vector<T> feat_;  // (L, 1 + nCond) sanitised [sample, cond...]
    std::vector<LayerTape> tape_;
    std::vector<T> rF_;    // (L, dModel)  residual entering norm_f
    std::vector<T> rstdF_; // (L)
    std::vector<T> f_;     // (L, dModel)  norm_f output
    // Backward scratch.
    std::vector<T> gr_, gu_, gxz_, gxc_, gyss_, gdt_, gxdb_, gh_;
};

extern template struct PreparedParams<float>;
extern template struct PreparedParams<double>;
extern template class SegmentPass<float>;
extern template class SegmentPass<double>;

} // namespace mfx::train
