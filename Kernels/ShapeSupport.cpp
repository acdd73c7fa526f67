#include "ShapeSupport.h"

#include "Launch.h"
#include "Model/ModelError.h"

#include <algorithm>

namespace mfx::cuda {

namespace {

constexpr int kHopperSmemBytes = 227 * 1024;
constexpr int kPreferredSmemBytes = 100 * 1024; // 2+ blocks per SM

int pow2Ceil(int x) {
    int p = 1;
    while (p < x) p *= 2;
    return p;
}

Shape shapeWithTile(const Config& c, int tile) {
    Shape s{};
    s.dModel = c.dModel;
    s.dMpad = roundUp(c.dModel, 4);
    s.dInner = c.dInner();
    s.dIpad = roundUp(s.dInner, 4);
    s.dState = c.dState;
    s.nP = std::max(4, pow2Ceil(c.dState));
    s.dConv = c.dConv;
    s.dtRank = c.dtRank;
    s.rPad = roundUp(c.dtRank, 4);
    s.nCond = c.nCond;
    s.nLayers = c.nLayers;
    s.xRows = s.rPad + 2 * s.nP;
    s.tile = tile;
    s.tileShift = 0;
    while ((1 << s.tileShift) < tile) ++s.tileShift;
    s.ts = tile + 4;
    s.ho = roundUp(c.dConv - 1, 4);
    s.xs = s.ho + s.ts;
    // States per scan thread: at least nP/4 (few shuffles per step), enough that dInner * groups fits the
    // block, and groups <= 32 (one warp).
    const int perBlock = pow2Ceil((s.dInner * s.nP + kThreads - 1) / kThreads);
    s.npt = std::max({s.nP / 4, perBlock, s.nP / 32, 1});
    s.groups = s.nP / s.npt;
    return s;
}

} // namespace

Shape makeShape(const Config& config, int tile) {
    if (tile > 0) return shapeWithTile(config, tile);
    const Shape s64 = shapeWithTile(config, 64);
    if (smemBytes(s64, true) <= kPreferredSmemBytes) return s64;
    return shapeWithTile(config, 32);
}

bool shapeSupported(const Config& c, std::string& whyNot, int maxSmemBytes) {
    try {
        c.validate();
    } catch (const ModelError& e) {
        whyNot = std::string("invalid model config: ") + e.what();
        return false;
    }
    const std::string prefix = "the CUDA backend does not support this model's shape: ";
    if (c.dInner() > 256) {
        whyNot = prefix + "dInner = expand * dModel = " + std::to_string(c.dInner()) + " > 256";
        return false;
    }
    if (c.dState > 64) {
        whyNot = prefix + "dState = " + std::to_string(c.dState) + " > 64";
        return false;
    }
    if (c.dConv > kMaxConv) {
        whyNot = prefix + "dConv = " + std::to_string(c.dConv) + " > " + std::to_string(kMaxConv);
        return false;
    }
    if (c.nCond > kMaxCond) {
        whyNot = prefix + "nCond = " + std::to_string(c.nCond) + " > " + std::to_string(kMaxCond);
        return false;
    }
    const int limit = maxSmemBytes > 0 ? maxSmemBytes : kHopperSmemBytes;
    const Shape s = makeShape(c);
    if (s.dInner * s.groups > kThreads || s.npt > 64) {
        whyNot = prefix + "dInner * dState too large for one block's scan threads";
        return false;
    }
    const int need = smemBytes(s, true);
    if (need > limit) {
        whyNot = prefix + "needs " + std::to_string(need / 1024) + " KB of shared memory per block, the device has " +
                 std::to_string(limit / 1024) + " KB";
        return false;
    }
    return true;
}

} // namespace mfx::cuda
