// NamWaveNet.h's block implementation (Eigen), compiled into each executable for that executable's
// target: as it is for the baseline, through NamWaveNetBlockAvx2.cpp with -mavx2 -mfma.
#include "NamWaveNet.h"

#include <Eigen/Core>

#include <algorithm>

namespace mfx::bench {
namespace {

using Mat = Eigen::MatrixXf;
using Vec = Eigen::VectorXf;

Mat matrix(const std::vector<float>& rowMajor, int rows, int cols) {
    return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(rowMajor.data(), rows, cols);
}
Vec vector(const std::vector<float>& v) { return Eigen::Map<const Vec>(v.data(), static_cast<Eigen::Index>(v.size())); }

struct Layer {
    int dilation = 1;
    std::vector<Mat> conv; // K x (channels, channels)
    Vec convBias;          // (channels)
    Mat mixin;             // (channels, conditionSize)
    Mat w1x1;              // (channels, channels)
    Vec b1x1;              // (channels)
    Mat history;           // (channels, (K-1) d + ring): this layer's inputs, the block's at columns [pos, pos + n)
    Eigen::Index pos = 0;  // first column of the current block
};

struct Array {
    NamArrayConfig c;
    Mat rechannel, headRechannel; // (channels, inputSize), (headSize, channels)
    Vec headBias;                 // (headSize) or empty
    std::vector<Layer> layers;
    // scratch, allocated once (as NAM's own buffers): a block uses the first n columns
    Mat z;      // (channels, maxBlock) a layer's activation
    Mat headIn; // (channels, maxBlock) the head accumulator
    Mat x;      // (channels, maxBlock) the last layer's output
    Mat head;   // (headSize, maxBlock) the head output
};

class Block final : public NamWaveNet {
public:
    Block(const NamWeights& w, int maxBlock) : maxBlock_(std::max(1, maxBlock)) {
        ring_ = std::max<Eigen::Index>(8192, 4 * maxBlock_);
        for (std::size_t a = 0; a < w.config.size(); ++a) {
            const NamArrayConfig& c = w.config[a];
            const NamArrayWeights& aw = w.arrays[a];
            Array ar;
            ar.c = c;
            ar.rechannel = matrix(aw.rechannel, c.channels, c.inputSize);
            ar.headRechannel = matrix(aw.headRechannel, c.headSize, c.channels);
            if (c.headBias) ar.headBias = vector(aw.headBias);
            for (std::size_t l = 0; l < c.dilations.size(); ++l) {
                const NamLayerWeights& lw = aw.layers[l];
                Layer L;
                L.dilation = c.dilations[l];
                for (const auto& k : lw.conv) L.conv.push_back(matrix(k, c.channels, c.channels));
                L.convBias = vector(lw.convBias);
                L.mixin = matrix(lw.mixin, c.channels, c.conditionSize);
                L.w1x1 = matrix(lw.w1x1, c.channels, c.channels);
                L.b1x1 = vector(lw.b1x1);
                L.history = Mat::Zero(c.channels, (c.kernelSize - 1) * L.dilation + ring_);
                ar.layers.push_back(std::move(L));
            }
            ar.z = Mat::Zero(c.channels, maxBlock_);
            ar.headIn = Mat::Zero(c.channels, maxBlock_);
            ar.x = Mat::Zero(c.channels, maxBlock_);
            ar.head = Mat::Zero(c.headSize, maxBlock_);
            arrays_.push_back(std::move(ar));
        }
        reset();
    }

    void reset() override {
        for (auto& a : arrays_)
            for (auto& L : a.layers) {
                L.history.setZero();
                L.pos = (a.c.kernelSize - 1) * L.dilation;
            }
    }

    void process(const float* in, float* out, int n) override {
        for (int done = 0; done < n;) {
            const int m = std::min(maxBlock_, n - done);
            block(in + done, out + done, m);
            done += m;
        }
    }

private:
    void block(const float* in, float* out, int n) {
        const Eigen::Map<const Eigen::RowVectorXf> cond(in, n); // (1, n): the condition of every layer
        for (std::size_t a = 0; a < arrays_.size(); ++a) {
            Array& ar = arrays_[a];
            const int K = ar.c.kernelSize;
            auto z = ar.z.leftCols(n);           // (channels, n)
            auto headIn = ar.headIn.leftCols(n); // (channels, n)
            auto x = ar.x.leftCols(n);           // (channels, n)
            // the head starts at zero, or at the previous array's head output (its headSize equals
            // this array's channels); the first layer's input is rechannel(input), or rechannel of
            // the previous array's last x
            Layer& first = ar.layers.front();
            if (a == 0) {
                headIn.setZero();
                first.history.middleCols(first.pos, n).noalias() = ar.rechannel * cond;
            } else {
                headIn = arrays_[a - 1].head.leftCols(n);
                first.history.middleCols(first.pos, n).noalias() = ar.rechannel * arrays_[a - 1].x.leftCols(n);
            }
            for (std::size_t l = 0; l < ar.layers.size(); ++l) {
                Layer& L = ar.layers[l];
                const auto xin = L.history.middleCols(L.pos, n);
                z.noalias() = L.conv[static_cast<std::size_t>(K - 1)] * xin;
                for (int k = 0; k + 1 < K; ++k)
                    z.noalias() += L.conv[static_cast<std::size_t>(k)] * L.history.middleCols(L.pos - (K - 1 - k) * L.dilation, n);
                z.colwise() += L.convBias;
                z.noalias() += L.mixin * cond;
                z = z.array().tanh().matrix();
                headIn += z;
                if (l + 1 < ar.layers.size()) {
                    Layer& next = ar.layers[l + 1];
                    auto dst = next.history.middleCols(next.pos, n);
                    dst = xin;
                    dst.noalias() += L.w1x1 * z;
                    dst.colwise() += L.b1x1;
                } else {
                    x = xin;
                    x.noalias() += L.w1x1 * z;
                    x.colwise() += L.b1x1;
                }
            }
            for (auto& L : ar.layers) advance(L, K, n);
            auto head = ar.head.leftCols(n); // (headSize, n)
            head.noalias() = ar.headRechannel * headIn;
            if (ar.c.headBias) head.colwise() += ar.headBias;
        }
        Eigen::Map<Eigen::RowVectorXf>(out, n) = kNamHeadScale * arrays_.back().head.leftCols(n).row(0);
    }

    // past the block; when the next block would not fit, the last (K-1) d inputs move to the front
    void advance(Layer& L, int K, int n) {
        L.pos += n;
        const Eigen::Index keep = static_cast<Eigen::Index>(K - 1) * L.dilation;
        if (L.pos + maxBlock_ > L.history.cols()) {
            const Mat tail = L.history.middleCols(L.pos - keep, keep);
            L.history.leftCols(keep) = tail;
            L.pos = keep;
        }
    }

    int maxBlock_;
    Eigen::Index ring_ = 0;
    std::vector<Array> arrays_;
};

} // namespace

#ifdef MFX_NAM_AVX2
const char* const kNamBuildName = "AVX2 + FMA build";
const bool kNamBuildNeedsAvx2 = true;
#else
const char* const kNamBuildName = "baseline x86-64 build";
const bool kNamBuildNeedsAvx2 = false;
#endif

std::unique_ptr<NamWaveNet> makeNamBlock(const NamWeights& w, int maxBlock) {
    if (!namBuildRunsHere()) return nullptr;
    return std::make_unique<Block>(w, maxBlock);
}

} // namespace mfx::bench
