// The reverse-time scan, per (segment b, channel d, state n), t from L-1 down to 0:
//   G_t = gh_{t+1} + C_t[n] gyss[m,d]       (total d(loss)/d h_t; gh_L = 0)
//   gh_t = G_t a_t,  a_t = exp(dt_t A[d,n])  (what flows on to h_{t-1})
// G[m, d, n] = G_t is saved; every other scan gradient is a sum over it (TrainScanBackwardPost.cu,
// and the ScanA reduction for A). Time-parallel over the forward scan's chunks, mirrored in time
// (ChunkedScan.cuh): each chunk from gh = 0 at its end (giving the gh leaving its start), the true gh
// entering each chunk from after its end, each chunk again from there saving G.
#include "ChunkedScan.cuh"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {

// The reverse scan over steps [t0, t1) of segment b from gh (flowing in from step t1), saving G
// (Save) or returning the product of a_t (decay). Returns the gh leaving step t0.
template <bool Save>
__device__ __forceinline__ float reverseChunk(const LayerTrainParams& p, const ScanLane& l, float gh, float* decayOut) {
    const TrainDims& d = p.dims;
    const int N = d.dState, dI = d.dInner;
    const float An = p.A[l.ch * N + l.n];
    float decay = 1.0f;
    long long m = l.b * d.L + l.t1 - 1;
#pragma unroll 4
    for (long long t = l.t1 - 1; t >= l.t0; --t, --m) {
        const float Cn = p.xdb[m * d.xProjOut + d.dtRank + N + l.n];
        const float g = gh + Cn * p.gyss[m * dI + l.ch];
        const float a = expf(p.dt[m * dI + l.ch] * An);
        if constexpr (Save) p.G[(m * dI + l.ch) * N + l.n] = g;
        else decay *= a;
        gh = g * a;
    }
    if (decayOut) *decayOut = decay;
    return gh;
}

struct ReverseScan {
    static constexpr bool kReverse = true;
    __device__ static float local(const LayerTrainParams& p, const ScanLane& l, float* decay) {
        return reverseChunk<false>(p, l, 0.0f, decay);
    }
    __device__ static void save(const LayerTrainParams& p, const ScanLane& l, float start) {
        reverseChunk<true>(p, l, start, nullptr);
    }
};

} // namespace

void launchScanBackward(const LayerTrainParams& p, cudaStream_t stream) { launchChunkedScan<ReverseScan>(p, stream); }

} // namespace mfx::cuda::train
