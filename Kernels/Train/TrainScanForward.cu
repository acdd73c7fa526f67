// The selective scan of training, every h_t saved for the backward pass:
//   h_t = a_t h_{t-1} + (dt_t x_t) B_t[n],   a_t = exp(dt_t A[d,n]),   h_{-1} = 0;   H[m, d, n] = h_t
// with dt_t = dt[m,d], x_t = xc[m,d], B_t = xdb[m, dtRank + n], per (segment b, channel d, state n),
// time-parallel over chunks of p.scanChunk steps (ChunkedScan.cuh: each chunk from zero, the chunks'
// true start states, each chunk again from its start saving H). Pass 3 repeats the sequential scan's
// arithmetic exactly from each chunk's start state.
#include "ChunkedScan.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

// The scan over steps [t0, t1) of segment b from h, saving H (Save) or returning the product of a_t.
template <bool Save>
__device__ __forceinline__ float forwardChunk(const LayerTrainParams& p, const ScanLane& l, float h, float* decayOut) {
    const TrainDims& d = p.dims;
    const int N = d.dState, dI = d.dInner;
    const float An = p.A[l.ch * N + l.n];
    float decay = 1.0f;
    long long m = l.b * d.L + l.t0;
#pragma unroll 4
    for (long long t = l.t0; t < l.t1; ++t, ++m) {
        const float dtv = p.dt[m * dI + l.ch];
        const float x = p.xc[m * dI + l.ch];
        const float Bn = p.xdb[m * d.xProjOut + d.dtRank + l.n];
        const float a = expf(dtv * An);
        h = a * h + (dtv * x) * Bn;
        if constexpr (Save) p.H[(m * dI + l.ch) * N + l.n] = h;
        else decay *= a;
    }
    if (decayOut) *decayOut = decay;
    return h;
}

struct ForwardScan {
    static constexpr bool kReverse = false;
    __device__ static float local(const LayerTrainParams& p, const ScanLane& l, float* decay) {
        return forwardChunk<false>(p, l, 0.0f, decay);
    }
    __device__ static void save(const LayerTrainParams& p, const ScanLane& l, float start) {
        forwardChunk<true>(p, l, start, nullptr);
    }
};

} // namespace

void launchScanForward(const LayerTrainParams& p, cudaStream_t stream) { launchChunkedScan<ForwardScan>(p, stream); }

} // namespace mfx::cuda::train
