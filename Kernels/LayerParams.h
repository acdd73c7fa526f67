#pragma once
// The flat parameter block every layer kernel receives by value (__grid_constant__), and the padded
// shape and shared-memory layout the kernels and the host agree on. Plain C++: no CUDA types.
//
// Layouts in device memory (s = stream, t = time step within the window, W = window capacity):
//   in, out      (count, W)            samples, stream stride inStride
//   cond         (count, W, nCond)
//   rIn, rOut    (count, dMpad, W)     residual stream r, feature-major (time contiguous)
//   conv window  (count, nLayers, dInner, dConv-1) oldest first  == State's layout
//   ssm state    (count, nLayers, dInner, dState)                 == State's layout
//   chunkDt      (count, numChunks, dInner)          sum of dt over each chunk
//   chunkH       (count, numChunks, dInner, dState)  h at chunk end from zero (kernel A) -> h at chunk start (kernel B)
#include <cstdint>

#if defined(__CUDACC__)
#define MFX_HD __host__ __device__
#else
#define MFX_HD
#endif

namespace mfx::cuda {

inline constexpr int kThreads = 256; // threads per block of the chunk kernels
// Chunk-kernel blocks per SM the register budget is sized for: 3 (<= 85 registers per thread) when a
// scan thread holds at most 8 states, else unconstrained (64 states need 128+ registers).
MFX_HD constexpr int minBlocksFor(int statesPerThread) { return statesPerThread <= 8 ? 3 : 1; }
inline constexpr int kMaxCond = 16;  // nCond limit (held values live in the parameter block)
inline constexpr int kMaxConv = 8;   // dConv limit

MFX_HD constexpr int roundUp(int x, int m) { return (x + m - 1) / m * m; }

// Model shape, padded for the kernels (counts in floats).
struct Shape {
    int dModel, dMpad; // residual width; rounded up to 4
    int dInner, dIpad; // channels (expand * dModel); rounded up to 4
    int dState, nP;    // SSM states; padded to a power of two >= 4 (padding states have A = B = C = 0)
    int dConv, dtRank, rPad; // rPad = dtRank rounded up to 4
    int nCond, nLayers;
    int xRows;  // rows of the padded x_proj: [dt_low (rPad) | B (nP) | C (nP)]
    int tile;   // time steps per tile (a power of two, 32..128: element-wise passes map t = tid % tile)
    int tileShift; // log2(tile)
    int ts;     // shared-memory row stride of (rows, time) buffers: tile + 4 (float4-aligned, bank-shifted)
    int ho;     // conv halo offset in xp: dConv-1 rounded up to 4
    int xs;     // xp row stride: ho + ts
    int npt;    // SSM states per scan thread (compile-time in the kernels: 1..64)
    int groups; // scan threads per channel: nP / npt (power of two <= 32)
};

// Shared-memory layout of one chunk-kernel block, offsets in floats (all multiples of 4).
struct SmemLayout {
    int rT;   // (dMpad, ts)  residual r of the tile (updated in place by out_proj)
    int xp;   // (dIpad, xs)  in_proj x half; columns [ho-(dConv-1), ho) hold the previous dConv-1 steps
    int xc;   // (dIpad, ts)  SiLU(conv1d(x))
    int dbc;  // (rows, ts)   x_proj output: dt_low, B, C (kernel A: no C rows)
    int dt;   // (dIpad, ts)  softplus(dt_proj(dt_low) + bias); 0 past the valid length (a no-op step)
    int z;    // (dIpad, ts)  SiLU(z) (finish only)
    int y;    // (dIpad, ts)  (C.h + D x) * SiLU(z) (finish only)
    int s;    // (ts)         RMSNorm scale per step
    int xin;  // (ts)         sanitised input sample per step
    int rh;   // (dMpad, kMaxConv) residual at the dConv-1 steps before the chunk
    int hs;   // (kMaxConv)   their RMSNorm scales
    int total;
};

MFX_HD inline SmemLayout smemLayout(const Shape& sh, bool finish) {
    SmemLayout L{};
    int o = 0;
    L.rT = o;  o += sh.dMpad * sh.ts;
    L.xp = o;  o += sh.dIpad * sh.xs;
    L.xc = o;  o += sh.dIpad * sh.ts;
    L.dbc = o; o += (finish ? sh.xRows : sh.rPad + sh.nP) * sh.ts;
    L.dt = o;  o += sh.dIpad * sh.ts;
    L.z = o;   o += finish ? sh.dIpad * sh.ts : 0;
    L.y = o;   o += finish ? sh.dIpad * sh.ts : 0;
    L.s = o;   o += sh.ts;
    L.xin = o; o += sh.ts;
    L.rh = o;  o += sh.dMpad * kMaxConv;
    L.hs = o;  o += kMaxConv;
    L.total = o;
    return L;
}

// One layer over one window, for all kernels (A: local scan, B: carry scan, C: finish; baseline).
struct LayerParams {
    Shape sh;
    int count;       // streams in this window
    int windowLen;   // samples per stream in this window
    int chunkLen;    // time steps per chunk (multiple of sh.tile)
    int numChunks;   // ceil(windowLen / chunkLen)
    int isFirst;     // layer 0: r is the embedding of the input, computed on the fly
    int isLast;      // last layer: write head(norm_f(r)) + skip * x instead of r
    int fastMath;    // 1: scan decay by ex2.approx, SiLU/softplus with __expf (see README, "Accuracy")
    int prefetch;    // 1: load the next tile's inputs into registers during the scan (ChunkTile.cuh)
    int poisonSmem;  // 1 (tests): fill shared memory with NaN at block start, so a read of a never-written
                     // element shows in the output
    long long inStride;  // floats between streams in `in`, `out` (cond: inStride * nCond)
    long long resStride; // floats between rows of rIn/rOut (stream stride dMpad * resStride)
    long long actStride; // floats between rows of the baseline activation buffers

    // Weights of this layer, padded (see DeviceModel.h). RMSNorm weights are folded into inProjT / headW.
    const float* inProjT;  // (dModel, 2*dIpad)   column d: x row d, column dIpad+d: z row d
    const float* convW;    // (dInner, dConv)
    const float* convB;    // (dInner)
    const float* xProjT;   // (dInner, xRows)
    const float* dtW;      // (dInner, dtRank)
    const float* dtB;      // (dInner)
    const float* A;        // (dInner, nP)         -exp(A_log); 0 for padding states
    const float* D;        // (dInner)
    const float* outProjT; // (dInner, dMpad)
    const float* embW;     // (dModel, 1 + nCond)
    const float* embB;     // (dModel)
    const float* headW;    // (dModel)            head.weight * norm_f.weight
    float headBias, skip;
    float heldCond[kMaxCond]; // conditioning used where cond == nullptr (sanitised)

    // Activations of this window.
    const float* in;   // (count, inStride)
    const float* cond; // (count, inStride, nCond) or nullptr
    const float* rIn;  // (count, dMpad, resStride) residual into this layer (unused when isFirst)
    float* rOut;       // (count, dMpad, resStride) residual out (unused when isLast)
    float* out;        // (count, inStride) model output (isLast)

    // Persistent state of this layer.
    const float* convIn; // conv window at the window start; stream stride convStride
    float* convOut;      // conv window at the window end (a different buffer: ping-pong)
    long long convStride;
    float* ssm;          // (dInner, dState) per stream, stride ssmStride: initial, then final state
    long long ssmStride;
    float* chunkDt;      // (count, numChunks, dInner)
    float* chunkH;       // (count, numChunks, dInner, dState)

    // Baseline pipeline only (count, rows, actStride): materialised activations and y.
    float* bX;  // (count, dInner, actStride) SiLU(conv(x))
    float* bZ;  // (count, dInner, actStride) SiLU(z)
    float* bDt; // (count, dInner, actStride) dt
    float* bB;  // (count, dState, actStride)
    float* bC;  // (count, dState, actStride)
    float* bY;  // (count, dInner, actStride) gated y
};

enum class FinishMode { Fused, Materialize, FromY };

} // namespace mfx::cuda
