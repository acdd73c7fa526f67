#include "PreparedModel.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

namespace mfx {

void AlignedFloats::Free::operator()(float* p) const noexcept { std::free(p); }

void AlignedFloats::resize(std::size_t n) {
    const std::size_t bytes = ((n * sizeof(float)) + 63) / 64 * 64;
    float* p = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes == 0 ? 64 : bytes);
    data_.reset(p);
    size_ = n;
}

namespace {

// dst (cols, colsP) <- transpose of src (rows=outDim, cols=inDim) : dst[k * outP + j] = src[j * inDim + k]
void transposeInto(AlignedFloats& dst, const std::vector<float>& src, int outDim, int inDim, int outP) {
    dst.resize(static_cast<std::size_t>(inDim) * static_cast<std::size_t>(outP));
    for (int j = 0; j < outDim; ++j)
        for (int k = 0; k < inDim; ++k)
            dst[static_cast<std::size_t>(k * outP + j)] = src[static_cast<std::size_t>(j * inDim + k)];
}

void copyPadded(AlignedFloats& dst, const std::vector<float>& src, int padded) {
    dst.resize(static_cast<std::size_t>(padded));
    std::memcpy(dst.data(), src.data(), src.size() * sizeof(float));
}

} // namespace

PreparedModel::PreparedModel(const Model& model) : model_(model) {
    model_.validate();
    const Config& c = model_.config;
    const int dIn = c.dInner(), N = c.dState, K = c.dConv, R = c.dtRank;
    dModelP = padLanes(c.dModel);
    dInnerP = padLanes(dIn);
    bcP = padLanes(2 * N);
    const Weights& w = model_.weights;

    transposeInto(embT, w.embeddingWeight, c.dModel, 1 + c.nCond, dModelP);
    copyPadded(embB, w.embeddingBias, dModelP);
    layers.resize(static_cast<std::size_t>(c.nLayers));
    for (int l = 0; l < c.nLayers; ++l) {
        const LayerWeights& src = w.layers[static_cast<std::size_t>(l)];
        PreparedLayer& L = layers[static_cast<std::size_t>(l)];
        copyPadded(L.norm, src.norm, dModelP);
        // in_proj (2*dInner, dModel) -> (dModel, 2*dInnerP) with x in [0, dInnerP) and z in [dInnerP, 2*dInnerP)
        L.inProjT.resize(static_cast<std::size_t>(c.dModel) * 2 * static_cast<std::size_t>(dInnerP));
        for (int j = 0; j < 2 * dIn; ++j) {
            const int col = j < dIn ? j : dInnerP + (j - dIn);
            for (int k = 0; k < c.dModel; ++k)
                L.inProjT[static_cast<std::size_t>(k * 2 * dInnerP + col)] =
                    src.inProj[static_cast<std::size_t>(j * c.dModel + k)] * src.norm[static_cast<std::size_t>(k)];
        }
        // conv1d.weight (dInner, 1, dConv) -> (dConv, dInnerP)
        L.convW.resize(static_cast<std::size_t>(K) * static_cast<std::size_t>(dInnerP));
        for (int d = 0; d < dIn; ++d)
            for (int k = 0; k < K; ++k)
                L.convW[static_cast<std::size_t>(k * dInnerP + d)] = src.convWeight[static_cast<std::size_t>(d * K + k)];
        copyPadded(L.convB, src.convBias, dInnerP);
        // x_proj (dtRank + 2 dState, dInner): the dt rows as they are (padded), B and C transposed
        L.xProjDt.resize(static_cast<std::size_t>(R) * static_cast<std::size_t>(dInnerP));
        L.xProjBC.resize(static_cast<std::size_t>(dIn) * static_cast<std::size_t>(bcP));
        for (int k = 0; k < dIn; ++k) {
            for (int r = 0; r < R; ++r)
                L.xProjDt[static_cast<std::size_t>(r * dInnerP + k)] = src.xProj[static_cast<std::size_t>(r * dIn + k)];
            for (int j = 0; j < 2 * N; ++j)
                L.xProjBC[static_cast<std::size_t>(k * bcP + j)] = src.xProj[static_cast<std::size_t>((R + j) * dIn + k)];
        }
        transposeInto(L.dtProjT, src.dtProjWeight, dIn, R, dInnerP);
        copyPadded(L.dtBias, src.dtProjBias, dInnerP);
        L.Alog2e.resize(static_cast<std::size_t>(N) * static_cast<std::size_t>(dInnerP));
        for (int n = 0; n < N; ++n)
            for (int d = 0; d < dInnerP; ++d)
                L.Alog2e[static_cast<std::size_t>(n * dInnerP + d)] = static_cast<float>(
                    d < dIn ? -std::exp(static_cast<double>(src.ALog[static_cast<std::size_t>(d * N + n)])) * 1.4426950408889634 : -1.0);
        L.A16.resize(L.Alog2e.size());
        for (std::size_t i = 0; i < L.A16.size(); ++i) L.A16[i] = 16.0f * L.Alog2e[i];
        copyPadded(L.D, src.D, dInnerP);
        transposeInto(L.outProjT, src.outProj, c.dModel, dIn, dModelP);
    }
    copyPadded(normF, w.normF, dModelP);
    copyPadded(headW, w.headWeight, dModelP);
    for (int k = 0; k < c.dModel; ++k) headW[static_cast<std::size_t>(k)] *= normF[static_cast<std::size_t>(k)];
    headB = w.headBias[0];
    skip = w.skip[0];
}

std::size_t PreparedModel::memoryBytes() const noexcept {
    std::size_t n = embT.size() + embB.size() + normF.size() + headW.size();
    for (const auto& L : layers)
        n += L.norm.size() + L.inProjT.size() + L.convW.size() + L.convB.size() + L.xProjBC.size() + L.xProjDt.size() + L.dtProjT.size() +
             L.dtBias.size() + L.Alog2e.size() + L.A16.size() + L.D.size() + L.outProjT.size();
    return n * sizeof(float);
}

} // namespace mfx
