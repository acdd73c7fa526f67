// The fast tape's padded parameter and gradient layouts (FastTape.h): one walk over every element
// (visit) maps a flat index (tensorTable order) to its padded place, used both to fill the
// parameters and to fold the padded gradients back into the flat vector.
#include "FastTape.h"

#include <cmath>
#include <stdexcept>

namespace mfx::train {

namespace {

std::size_t Z(int v) { return static_cast<std::size_t>(v); }

// fn(flatIndex, paddedElement, aLog) for every parameter element, in the primary (un-transposed)
// padded layout that parameters and gradients share; aLog is null except for A_log's elements,
// where it points to the same element of `aOf` (the parameters' A = -exp(A_log), for the chain
// rule) or, without `aOf`, to the element itself.
template <class Fn>
void visit(const FastShape& s, const ParamLayout& layout, FastTensors& t, const FastTensors* aOf, Fn&& fn) {
    const Config& c = s.c;
    const int dM = c.dModel, dI = c.dInner(), N = c.dState, K = c.dConv, R = c.dtRank, XO = c.xProjOut(), F = s.F;
    const std::size_t dMP = Z(s.dMP), P = Z(s.P);
    std::size_t k = 0;
    auto base = [&](std::size_t slot) {
        k = layout.slots[slot].offset;
        return k;
    };
    std::size_t slot = 0;
    base(slot++); // embedding.weight (dModel, F)
    for (int i = 0; i < dM; ++i)
        for (int j = 0; j < F; ++j) fn(k++, t.embT[Z(j) * dMP + Z(i)], nullptr);
    base(slot++); // embedding.bias
    for (int i = 0; i < dM; ++i) fn(k++, t.embB[Z(i)], nullptr);
    for (int l = 0; l < c.nLayers; ++l) {
        auto& L = t.layers[Z(l)];
        base(slot++); // in_proj (2 dInner, dModel): rows [x | z] -> inProjB rows j and P + j
        for (int o = 0; o < 2 * dI; ++o)
            for (int i = 0; i < dM; ++i) fn(k++, L.inProjB[Z(o < dI ? o : s.P + o - dI) * dMP + Z(i)], nullptr);
        base(slot++); // conv1d.weight (dInner, 1, dConv)
        for (int d = 0; d < dI; ++d)
            for (int j = 0; j < K; ++j) fn(k++, L.convW[Z(j) * P + Z(d)], nullptr);
        base(slot++); // conv1d.bias
        for (int d = 0; d < dI; ++d) fn(k++, L.convB[Z(d)], nullptr);
        base(slot++); // x_proj (dtRank + 2 dState, dInner)
        for (int o = 0; o < XO; ++o)
            for (int d = 0; d < dI; ++d) fn(k++, L.xProjB[Z(o) * P + Z(d)], nullptr);
        base(slot++); // dt_proj.weight (dInner, dtRank)
        for (int d = 0; d < dI; ++d)
            for (int q = 0; q < R; ++q) fn(k++, L.dtWT[Z(q) * P + Z(d)], nullptr);
        base(slot++); // dt_proj.bias
        for (int d = 0; d < dI; ++d) fn(k++, L.dtB[Z(d)], nullptr);
        base(slot++); // A_log (dInner, dState) -> A (dState, P)
        for (int d = 0; d < dI; ++d)
            for (int n = 0; n < N; ++n) {
                const std::size_t i = Z(n) * P + Z(d);
                fn(k++, L.A[i], aOf ? &aOf->layers[Z(l)].A[i] : &L.A[i]);
            }
        base(slot++); // D
        for (int d = 0; d < dI; ++d) fn(k++, L.D[Z(d)], nullptr);
        base(slot++); // out_proj (dModel, dInner)
        for (int m = 0; m < dM; ++m)
            for (int d = 0; d < dI; ++d) fn(k++, L.outProjB[Z(m) * P + Z(d)], nullptr);
        base(slot++); // norm
        for (int m = 0; m < dM; ++m) fn(k++, L.norm[Z(m)], nullptr);
    }
    base(slot++);
    for (int m = 0; m < dM; ++m) fn(k++, t.normF[Z(m)], nullptr);
    base(slot++);
    for (int m = 0; m < dM; ++m) fn(k++, t.headW[Z(m)], nullptr);
    base(slot++);
    fn(k++, t.headB, nullptr);
    base(slot++);
    fn(k++, t.skip, nullptr);
    if (slot != layout.slots.size()) throw std::logic_error("FastParams: tensor walk out of step with ParamLayout");
}

// dst (cols, dstP) = transpose of src (rows, srcP) over its first `cols` columns
void transpose(const AlignedFloats& src, int rows, std::size_t srcP, int cols, AlignedFloats& dst, std::size_t dstP) {
    for (int r = 0; r < rows; ++r)
        for (int col = 0; col < cols; ++col) dst[Z(col) * dstP + Z(r)] = src[Z(r) * srcP + Z(col)];
}

} // namespace

FastShape::FastShape(const Config& config)
    : c(config), F(1 + config.nCond), dMP(padLanes(config.dModel)), P(padLanes(config.dInner())), XOP(padLanes(config.xProjOut())) {}

FastTensors::FastTensors(const FastShape& s, bool forParameters) : layers(Z(s.c.nLayers)) {
    const Config& c = s.c;
    const std::size_t dMP = Z(s.dMP), P = Z(s.P), N = Z(c.dState), K = Z(c.dConv), R = Z(c.dtRank), XO = Z(c.xProjOut());
    embT.resize(Z(s.F) * dMP);
    embB.resize(dMP);
    for (auto& L : layers) {
        L.norm.resize(dMP);
        L.inProjB.resize(2 * P * dMP);
        L.convW.resize(K * P);
        L.convB.resize(P);
        L.xProjB.resize(XO * P);
        L.dtWT.resize(R * P);
        L.dtB.resize(P);
        L.A.resize(N * P);
        L.D.resize(P);
        L.outProjB.resize(Z(c.dModel) * P);
        if (forParameters) {
            L.inProjT.resize(Z(c.dModel) * 2 * P);
            L.xProjT.resize(Z(c.dInner()) * Z(s.XOP));
            L.outProjT.resize(Z(c.dInner()) * dMP);
            L.Alog2e.resize(N * P);
            L.A16.resize(N * P);
        }
    }
    normF.resize(dMP);
    headW.resize(dMP);
}

FastParams::FastParams(const Config& c) : layout(c), shape(c), t(shape, true) {}

void FastParams::set(const std::vector<double>& flat) {
    if (flat.size() != layout.total) throw std::invalid_argument("FastParams: parameter vector has the wrong length");
    visit(shape, layout, t, nullptr, [&](std::size_t k, float& dst, const float* aLog) {
        dst = aLog ? -std::exp(static_cast<float>(flat[k])) : static_cast<float>(flat[k]); // A = -exp(A_log)
    });
    const Config& c = shape.c;
    const std::size_t P = Z(shape.P), dMP = Z(shape.dMP);
    constexpr float kLog2e = 1.44269504088896341f;
    for (auto& L : t.layers) {
        transpose(L.inProjB, 2 * shape.P, dMP, c.dModel, L.inProjT, 2 * P);
        transpose(L.xProjB, c.xProjOut(), P, c.dInner(), L.xProjT, Z(shape.XOP));
        transpose(L.outProjB, c.dModel, P, c.dInner(), L.outProjT, dMP);
        for (int n = 0; n < c.dState; ++n)
            for (std::size_t d = 0; d < P; ++d) {
                float& a = L.A[Z(n) * P + d];
                if (d >= Z(c.dInner())) a = -1.0f; // padding lanes decay (their state stays 0)
                L.Alog2e[Z(n) * P + d] = a * kLog2e;
                L.A16[Z(n) * P + d] = 16.0f * (a * kLog2e); // as PreparedModel: exactly 16 times Alog2e
            }
    }
}

void addFastGradients(const FastParams& p, FastTensors& g, float* grad) {
    // d/dA_log = d/dA * dA/dA_log = d/dA * A
    visit(p.shape, p.layout, g, &p.t, [&](std::size_t k, float& src, const float* A) { grad[k] += A ? src * *A : src; });
}

} // namespace mfx::train
