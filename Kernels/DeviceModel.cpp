#include "DeviceModel.h"

#include <cmath>

namespace mfx::cuda {

namespace {

// Host staging: arrays appended at 16-byte-aligned offsets of one upload.
struct Packer {
    std::vector<float> data;
    std::size_t add(const std::vector<float>& v) {
        const std::size_t at = data.size();
        data.insert(data.end(), v.begin(), v.end());
        data.resize(static_cast<std::size_t>(roundUp(static_cast<int>(data.size()), 4)), 0.0f);
        return at;
    }
};

struct LayerOffsets {
    std::size_t inProjT, convW, convB, xProjT, dtW, dtB, A, D, outProjT;
};

} // namespace

DeviceModel::DeviceModel(const Model& model, const Shape& sh, cudaStream_t stream) {
    model.validate();
    const Config& c = model.config;
    const Weights& w = model.weights;
    const auto at = [](int i) { return static_cast<std::size_t>(i); };
    Packer pk;
    std::vector<LayerOffsets> offs;
    for (const LayerWeights& L : w.layers) {
        LayerOffsets o{};
        std::vector<float> inT(at(sh.dModel * 2 * sh.dIpad), 0.0f);
        for (int j = 0; j < sh.dModel; ++j)
            for (int d = 0; d < sh.dInner; ++d) {
                inT[at(j * 2 * sh.dIpad + d)] = L.inProj[at(d * sh.dModel + j)] * L.norm[at(j)];
                inT[at(j * 2 * sh.dIpad + sh.dIpad + d)] = L.inProj[at((sh.dInner + d) * sh.dModel + j)] * L.norm[at(j)];
            }
        o.inProjT = pk.add(inT);
        o.convW = pk.add(L.convWeight);
        o.convB = pk.add(L.convBias);
        std::vector<float> xT(at(sh.dInner * sh.xRows), 0.0f);
        const int R = sh.dtRank, N = sh.dState;
        for (int k = 0; k < sh.dInner; ++k) {
            for (int r = 0; r < R; ++r) xT[at(k * sh.xRows + r)] = L.xProj[at(r * sh.dInner + k)];
            for (int n = 0; n < N; ++n) {
                xT[at(k * sh.xRows + sh.rPad + n)] = L.xProj[at((R + n) * sh.dInner + k)];
                xT[at(k * sh.xRows + sh.rPad + sh.nP + n)] = L.xProj[at((R + N + n) * sh.dInner + k)];
            }
        }
        o.xProjT = pk.add(xT);
        o.dtW = pk.add(L.dtProjWeight);
        o.dtB = pk.add(L.dtProjBias);
        std::vector<float> A(at(sh.dInner * sh.nP), 0.0f);
        for (int d = 0; d < sh.dInner; ++d)
            for (int n = 0; n < N; ++n)
                A[at(d * sh.nP + n)] = static_cast<float>(-std::exp(static_cast<double>(L.ALog[at(d * N + n)])));
        o.A = pk.add(A);
        o.D = pk.add(L.D);
        std::vector<float> outT(at(sh.dInner * sh.dMpad), 0.0f);
        for (int k = 0; k < sh.dInner; ++k)
            for (int j = 0; j < sh.dModel; ++j) outT[at(k * sh.dMpad + j)] = L.outProj[at(j * sh.dInner + k)];
        o.outProjT = pk.add(outT);
        offs.push_back(o);
    }
    const std::size_t embW = pk.add(w.embeddingWeight), embB = pk.add(w.embeddingBias);
    std::vector<float> head(at(c.dModel));
    for (int j = 0; j < c.dModel; ++j) head[at(j)] = w.headWeight[at(j)] * w.normF[at(j)];
    const std::size_t headW = pk.add(head);
    headBias = w.headBias[0];
    skip = w.skip[0];

    storage_.allocate(pk.data.size());
    MFX_CUDA_CHECK(cudaMemcpyAsync(storage_.get(), pk.data.data(), pk.data.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
    MFX_CUDA_CHECK(cudaStreamSynchronize(stream));
    const float* base = storage_.get();
    for (const LayerOffsets& o : offs)
        layers.push_back(DeviceLayer{base + o.inProjT, base + o.convW, base + o.convB, base + o.xProjT, base + o.dtW,
                                     base + o.dtB, base + o.A, base + o.D, base + o.outProjT});
    this->embW = base + embW;
    this->embB = base + embB;
    this->headW = base + headW;
}

} // namespace mfx::cuda
