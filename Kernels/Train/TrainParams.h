#pragma once
// Flat parameter structs of the training kernels (Kernels/Train/*.cu), passed by value. Plain C++.
//
// Every activation buffer is row-major over rows m = b * L + t (segment b of the batch, step t of
// that segment); every segment starts from zero state, so step t = 0 of a segment has no past
// (no conv history, h_{-1} = 0). Shapes in the comments: M = batch * L.
namespace mfx::cuda::train {

struct TrainDims {
    long long M = 0; // rows: batch * L
    int L = 0;       // steps per segment
    int batch = 0;
    int dModel = 0, dInner = 0, dState = 0, dConv = 0, dtRank = 0;
    int xProjOut = 0; // dtRank + 2 * dState: columns of xdb = [dt | B | C]
    int nFeat = 0;    // 1 + nCond
};

// out[m*ldo + j] = (accumulate ? out[m*ldo + j] : 0) + (bias ? bias[j] : 0) + sum_k in[m*ldi + k] * W[j*wsJ + k*wsK]
// for m < M, j < N, k < K. Forward products use W (N, K) row-major (wsJ = K, wsK = 1); input
// gradients use the transpose of the forward weight (wsJ = 1, wsK = the forward K).
struct LinearParams {
    long long M = 0;
    const float* in = nullptr;
    long long ldi = 0;
    int K = 0;
    const float* W = nullptr;
    long long wsJ = 0, wsK = 0;
    const float* bias = nullptr; // (N) or nullptr
    float* out = nullptr;
    long long ldo = 0;
    int N = 0;
    bool accumulate = false;
};

// grad[j] += (scale ? scale[j] : 1) * sum_{m < M} f(m, j) for j < P, in a fixed order: float sums
// over chunks of chunkRows rows, then a float64 sum over the chunks (deterministic).
enum class ReduceMode {
    Gemm,       // f = gY[m*ldy + j / K] * (X ? X[m*ldx + j % K] : 1)      (weight (N, K) or bias gradients)
    Product,    // f = a[m*lda + j] * (b ? b[m*ldb + j] : 1) * (c ? c[m*ldc] : 1)
    ConvWeight, // j = d*dConv + k:  gxpre[m, d] * xz[m - (dConv-1) + k, d], 0 before the segment start
    ScanA,      // j = d*dState + n: G[m, d, n] * h[m-1, d, n] * exp(dt[m, d] A[d, n]) * dt[m, d], h[-1] = 0 at t = 0
};
struct ReduceParams {
    ReduceMode mode = ReduceMode::Gemm;
    TrainDims dims;
    int P = 0;
    const float* gY = nullptr;
    long long ldy = 0;
    const float* X = nullptr;
    long long ldx = 0;
    int K = 1;
    const float* a = nullptr;
    long long lda = 0;
    const float* b = nullptr;
    long long ldb = 0;
    const float* c = nullptr;
    long long ldc = 0;
    const float* gxpre = nullptr; // (M, dInner)
    const float* xz = nullptr;    // (M, 2*dInner)
    const float* G = nullptr;     // (M, dInner, dState)
    const float* H = nullptr;     // (M, dInner, dState)
    const float* dt = nullptr;    // (M, dInner)
    const float* A = nullptr;     // (dInner, dState)
    const float* scale = nullptr; // (P) or nullptr
    float* partials = nullptr;    // (ceil(M / chunkRows), P) scratch
    long long chunkRows = 1024;
    double* grad = nullptr;       // (P) accumulated into
};

// RMSNorm over rows of width dModel (eps 1e-5).
struct RmsNormParams {
    TrainDims dims;
    const float* r = nullptr; // (M, dModel) input
    const float* w = nullptr; // (dModel)
    float* u = nullptr;       // (M, dModel) forward output
    float* rstd = nullptr;    // (M) forward output / backward input
    const float* gu = nullptr; // (M, dModel) backward: d/du
    float* gr = nullptr;       // (M, dModel) backward: d/dr accumulated into
};

// One Mamba layer's element-wise and scan kernels: weights, saved activations, gradient scratch.
struct LayerTrainParams {
    TrainDims dims;
    const float* convWeight = nullptr; // (dInner, dConv)
    const float* convBias = nullptr;   // (dInner)
    const float* dtWeight = nullptr;   // (dInner, dtRank)
    const float* dtBias = nullptr;     // (dInner)
    const float* A = nullptr;          // (dInner, dState)   A = -exp(A_log)
    const float* D = nullptr;          // (dInner)
    float* xz = nullptr;     // (M, 2*dInner)  in_proj output: x | z
    float* xpre = nullptr;   // (M, dInner)    conv1d output before SiLU
    float* xc = nullptr;     // (M, dInner)    SiLU(conv1d)
    float* xdb = nullptr;    // (M, xProjOut)  x_proj output: dt | B | C
    float* dtLin = nullptr;  // (M, dInner)    dt_proj + bias
    float* dt = nullptr;     // (M, dInner)    softplus(dtLin)
    float* H = nullptr;      // (M, dInner, dState)  h_t
    float* yss = nullptr;    // (M, dInner)    C.h + D x
    float* gated = nullptr;  // (M, dInner)    yss * SiLU(z)
    float* gGated = nullptr; // (M, dInner)    d/d(gated)
    float* gyss = nullptr;   // (M, dInner)
    float* gxz = nullptr;    // (M, 2*dInner)
    float* gxc = nullptr;    // (M, dInner)
    float* gxpre = nullptr;  // (M, dInner)
    float* gdtLin = nullptr; // (M, dInner)
    float* gxdb = nullptr;   // (M, xProjOut)
    float* G = nullptr;      // (M, dInner, dState)  d/dh_t (total, at step t)
    // The scans' time chunks (TrainScanForward.cu): scanChunk steps each, chunks = ceil(L / scanChunk);
    // 0 = one chunk per segment (the sequential scan, no scratch needed).
    int scanChunk = 0;
    float* chunkEnd = nullptr;   // (batch, chunks, dInner, dState)  a chunk's local end, then its start
    float* chunkDecay = nullptr; // (batch, chunks, dInner, dState)  prod of exp(dt A) over the chunk
};

// y[m] = headB + headW . f[m, :] + skip * feat[m, 0]
struct HeadParams {
    TrainDims dims;
    const float* f = nullptr;     // (M, dModel)
    const float* headW = nullptr; // (dModel)
    const float* headB = nullptr; // (1)
    const float* skip = nullptr;  // (1)
    const float* feat = nullptr;  // (M, nFeat)
    float* out = nullptr;         // (M)
};

} // namespace mfx::cuda::train
