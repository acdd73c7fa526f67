#include "BlockRunner.h"
#include "../Model/ModelError.h"

#include <cstring>

namespace mfx {

namespace {
inline std::size_t Z(int v) { return static_cast<std::size_t>(v); }
} // namespace

ChannelState::ChannelState(const PreparedModel& pm) {
    const Config& c = pm.config();
    conv.resize(Z(c.nLayers));
    ssm.resize(Z(c.nLayers));
    for (int l = 0; l < c.nLayers; ++l) {
        conv[Z(l)].resize(Z(c.dConv - 1) * Z(pm.dInnerP));
        ssm[Z(l)].resize(Z(c.dState) * Z(pm.dInnerP));
    }
}

void ChannelState::reset() noexcept {
    for (auto& a : conv) std::memset(a.data(), 0, a.size() * sizeof(float));
    for (auto& a : ssm) std::memset(a.data(), 0, a.size() * sizeof(float));
}

void ChannelState::assign(const ChannelState& other) noexcept {
    for (std::size_t l = 0; l < conv.size(); ++l) std::memcpy(conv[l].data(), other.conv[l].data(), conv[l].size() * sizeof(float));
    for (std::size_t l = 0; l < ssm.size(); ++l) std::memcpy(ssm[l].data(), other.ssm[l].data(), ssm[l].size() * sizeof(float));
}

State ChannelState::toState(const PreparedModel& pm) const {
    const Config& c = pm.config();
    const int dIn = c.dInner(), K1 = c.dConv - 1, N = c.dState, P = pm.dInnerP;
    State s(c);
    for (int l = 0; l < c.nLayers; ++l)
        for (int d = 0; d < dIn; ++d) {
            for (int k = 0; k < K1; ++k) s.layers[Z(l)].conv[Z(d * K1 + k)] = conv[Z(l)][Z(k * P + d)];
            for (int n = 0; n < N; ++n) s.layers[Z(l)].ssm[Z(d * N + n)] = ssm[Z(l)][Z(n * P + d)];
        }
    return s;
}

void ChannelState::fromState(const PreparedModel& pm, const State& s) {
    const Config& c = pm.config();
    const int dIn = c.dInner(), K1 = c.dConv - 1, N = c.dState, P = pm.dInnerP;
    const State shape(c);
    bool ok = s.layers.size() == shape.layers.size();
    for (std::size_t l = 0; ok && l < s.layers.size(); ++l)
        ok = s.layers[l].conv.size() == shape.layers[l].conv.size() && s.layers[l].ssm.size() == shape.layers[l].ssm.size();
    if (!ok) throw ModelError("state does not match the model's shape (" + c.summary() + ")");
    reset();
    for (int l = 0; l < c.nLayers; ++l)
        for (int d = 0; d < dIn; ++d) {
            for (int k = 0; k < K1; ++k) conv[Z(l)][Z(k * P + d)] = s.layers[Z(l)].conv[Z(d * K1 + k)];
            for (int n = 0; n < N; ++n) ssm[Z(l)][Z(n * P + d)] = s.layers[Z(l)].ssm[Z(d * N + n)];
        }
}

BlockRunner::BlockRunner(const PreparedModel& pm, std::size_t maxRows, int timeChunks) : pm_(pm), maxRows_(maxRows) {
    const Config& c = pm.config();
    s_.inSan.resize(maxRows);
    s_.feat.resize(maxRows * Z(1 + c.nCond));
    s_.r.resize(maxRows * Z(pm.dModelP));
    s_.scale.resize(maxRows);
    s_.xz.resize(maxRows * 2 * Z(pm.dInnerP));
    s_.window.resize((Z(c.dConv - 1) + maxRows) * Z(pm.dInnerP));
    s_.xc.resize(maxRows * Z(pm.dInnerP));
    s_.dtr.resize(maxRows * Z(c.dtRank));
    s_.bc.resize(maxRows * Z(pm.bcP));
    s_.dt.resize(maxRows * Z(pm.dInnerP));
    s_.y.resize(maxRows * Z(pm.dInnerP));
    if (timeChunks > 0) {
        s_.numChunks = timeChunks;
        s_.chunkH.resize(Z(timeChunks) * Z(c.dState) * Z(pm.dInnerP));
        s_.chunkS.resize(Z(timeChunks) * Z(pm.dInnerP));
    }
}

std::size_t ChannelState::memoryBytes() const noexcept {
    std::size_t n = 0;
    for (const auto& a : conv) n += a.size();
    for (const auto& a : ssm) n += a.size();
    return n * sizeof(float);
}

std::size_t BlockRunner::scratchBytes() const noexcept {
    const BlockScratch& s = s_;
    return sizeof(float) * (s.inSan.size() + s.feat.size() + s.r.size() + s.scale.size() + s.xz.size() + s.window.size() +
                            s.xc.size() + s.dtr.size() + s.bc.size() + s.dt.size() + s.y.size() + s.chunkH.size() + s.chunkS.size());
}

} // namespace mfx
