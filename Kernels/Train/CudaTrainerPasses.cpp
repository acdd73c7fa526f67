// The CUDA gradient backend's launch sequences: the forward pass with every activation saved and
// its exact backward pass, layer by layer (CudaTrainer.h). The formula of each step is above its
// kernel in Kernels/Train/*.cu; buffers, uploads and the loss are in CudaTrainer.cpp.
#include "CudaTrainer.h"

#include "../CudaCheck.h"
#include "TrainLaunch.h"

namespace mfx::cuda::train {

namespace {
// out (M, N) (+)= in (M, K) times W, see LinearParams.
LinearParams linear(long long M, const float* in, long long ldi, int K, const float* W, long long wsJ, long long wsK,
                           float* out, long long ldo, int N, bool accumulate = false, const float* bias = nullptr) {
    LinearParams p;
    p.M = M;
    p.in = in;
    p.ldi = ldi;
    p.K = K;
    p.W = W;
    p.wsJ = wsJ;
    p.wsK = wsK;
    p.bias = bias;
    p.out = out;
    p.ldo = ldo;
    p.N = N;
    p.accumulate = accumulate;
    return p;
}

ReduceParams gemmGrad(const float* gY, long long ldy, int N, const float* X, long long ldx, int K) {
    ReduceParams r;
    r.mode = ReduceMode::Gemm;
    r.gY = gY;
    r.ldy = ldy;
    r.X = X;
    r.ldx = ldx;
    r.K = K;
    r.P = N * K;
    return r;
}

ReduceParams productGrad(const float* a, long long lda, const float* b, long long ldb, const float* c, long long ldc, int P) {
    ReduceParams r;
    r.mode = ReduceMode::Product;
    r.a = a;
    r.lda = lda;
    r.b = b;
    r.ldb = ldb;
    r.c = c;
    r.ldc = ldc;
    r.P = P;
    return r;
}

} // namespace

void CudaGradientBackend::forward(const TrainDims& d) {
    const long long M = d.M;
    const int dM = d.dModel, dI = d.dInner, XO = d.xProjOut, F = d.nFeat;
    const auto P = mfx::train::viewParams<const float>(layout_, params_.get());
    // r0 = embedding([x, cond])
    float* r0 = c_.nLayers > 0 ? layers_[0].rIn.get() : rF_.get();
    mark("embedding");
    launchTrainLinear(linear(M, feat_.get(), F, F, P.embWeight, F, 1, r0, dM, dM, false, P.embBias), stream_);
    for (int l = 0; l < c_.nLayers; ++l) {
        const auto& W = P.layers[static_cast<std::size_t>(l)];
        auto& L = layers_[static_cast<std::size_t>(l)];
        const LayerTrainParams lp = layerParams(l, d);
        RmsNormParams n;
        n.dims = d;
        n.r = L.rIn.get();
        n.w = W.norm;
        n.u = L.u.get();
        n.rstd = L.rstd.get();
        mark("fwd rmsnorm");
        launchRmsNormForward(n, stream_);                                                                  // u = RMSNorm(r)
        mark("fwd in_proj");
        launchTrainLinear(linear(M, L.u.get(), dM, dM, W.inProj, dM, 1, L.xz.get(), 2 * dI, 2 * dI), stream_); // xz = in_proj(u)
        mark("fwd conv+silu");
        launchConvForward(lp, stream_);                                                                    // xc = SiLU(conv(x))
        mark("fwd x_proj");
        launchTrainLinear(linear(M, L.xc.get(), dI, dI, W.xProj, dI, 1, L.xdb.get(), XO, XO), stream_);      // dt|B|C = x_proj(xc)
        mark("fwd dt_proj+softplus");
        launchDtForward(lp, stream_);                                                                      // dt = softplus(...)
        mark("fwd scan");
        launchScanForward(lp, stream_);                                                                    // H
        mark("fwd gate");
        launchGateForward(lp, stream_);                                                                    // yss, gated
        mark("fwd out_proj+residual");
        float* rNext = l + 1 < c_.nLayers ? layers_[static_cast<std::size_t>(l + 1)].rIn.get() : rF_.get();
        MFX_CUDA_CHECK(cudaMemcpyAsync(rNext, L.rIn.get(), static_cast<std::size_t>(M) * static_cast<std::size_t>(dM) * sizeof(float),
                                       cudaMemcpyDeviceToDevice, stream_));
        launchTrainLinear(linear(M, L.gated.get(), dI, dI, W.outProj, dI, 1, rNext, dM, dM, true), stream_); // r += out_proj(gated)
    }
    RmsNormParams n;
    n.dims = d;
    n.r = rF_.get();
    n.w = P.normF;
    n.u = f_.get();
    n.rstd = rstdF_.get();
    mark("fwd norm_f+head");
    launchRmsNormForward(n, stream_);
    HeadParams h;
    h.dims = d;
    h.f = f_.get();
    h.headW = P.headWeight;
    h.headB = P.headBias;
    h.skip = P.skip;
    h.feat = feat_.get();
    h.out = out_.get();
    launchHeadForward(h, stream_);
}

void CudaGradientBackend::backward(const TrainDims& d) {
    const long long M = d.M;
    const int dM = d.dModel, dI = d.dInner, N = d.dState, K = d.dConv, R = d.dtRank, XO = d.xProjOut, F = d.nFeat;
    const auto P = mfx::train::viewParams<const float>(layout_, params_.get());
    const auto Gd = mfx::train::viewParams<double>(layout_, grad_.get());
    MFX_CUDA_CHECK(cudaMemsetAsync(grad_.get(), 0, layout_.total * sizeof(double), stream_));

    // Head: y = headW . f + headB + skip * x
    mark("bwd head+norm_f");
    launchTrainLinear(linear(M, gOut_.get(), 1, 1, P.headWeight, 1, 0, gu_.get(), dM, dM), stream_); // gf = gOut headW
    reduce(gemmGrad(gOut_.get(), 1, 1, f_.get(), dM, dM), d, Gd.headWeight);
    reduce(gemmGrad(gOut_.get(), 1, 1, nullptr, 0, 1), d, Gd.headBias);
    reduce(gemmGrad(gOut_.get(), 1, 1, feat_.get(), F, 1), d, Gd.skip);
    // norm_f
    MFX_CUDA_CHECK(cudaMemsetAsync(gr_.get(), 0, static_cast<std::size_t>(M) * static_cast<std::size_t>(dM) * sizeof(float), stream_));
    RmsNormParams nf;
    nf.dims = d;
    nf.r = rF_.get();
    nf.w = P.normF;
    nf.rstd = rstdF_.get();
    nf.gu = gu_.get();
    nf.gr = gr_.get();
    launchRmsNormBackward(nf, stream_);
    reduce(productGrad(gu_.get(), dM, rF_.get(), dM, rstdF_.get(), 1, dM), d, Gd.normF);

    for (int l = c_.nLayers - 1; l >= 0; --l) {
        const auto& W = P.layers[static_cast<std::size_t>(l)];
        const auto& GW = Gd.layers[static_cast<std::size_t>(l)];
        auto& L = layers_[static_cast<std::size_t>(l)];
        const LayerTrainParams lp = layerParams(l, d);
        // r_out = r_in + out_proj(gated)
        mark("bwd out_proj");
        reduce(gemmGrad(gr_.get(), dM, dM, L.gated.get(), dI, dI), d, GW.outProj);
        launchTrainLinear(linear(M, gr_.get(), dM, dM, W.outProj, 1, dI, gGated_.get(), dI, dI), stream_);
        // gated = yss SiLU(z);  yss = C.h + D x
        mark("bwd gate");
        launchGateBackward(lp, stream_);
        reduce(productGrad(gyss_.get(), dI, L.xc.get(), dI, nullptr, 0, dI), d, GW.D);
        // the selective scan
        mark("bwd scan");
        launchScanBackward(lp, stream_);
        mark("bwd scan inputs (post)");
        launchScanBackwardPost(lp, stream_);
        mark("bwd A_log reduction");
        ReduceParams ra;
        ra.mode = ReduceMode::ScanA;
        ra.P = dI * N;
        ra.G = G_.get();
        ra.H = L.H.get();
        ra.dt = L.dt.get();
        ra.A = lp.A;
        ra.scale = lp.A; // d/dA_log = A d/dA
        reduce(ra, d, GW.ALog);
        // dtLin = dt_proj(xdb[:, :R]) + bias
        mark("bwd dt_proj");
        reduce(gemmGrad(gdtLin_.get(), dI, dI, nullptr, 0, 1), d, GW.dtBias);
        reduce(gemmGrad(gdtLin_.get(), dI, dI, L.xdb.get(), XO, R), d, GW.dtWeight);
        launchTrainLinear(linear(M, gdtLin_.get(), dI, dI, W.dtWeight, 1, R, gxdb_.get(), XO, R), stream_);
        // xdb = x_proj(xc)
        mark("bwd x_proj");
        reduce(gemmGrad(gxdb_.get(), XO, XO, L.xc.get(), dI, dI), d, GW.xProj);
        launchTrainLinear(linear(M, gxdb_.get(), XO, XO, W.xProj, 1, dI, gxc_.get(), dI, dI, true), stream_);
        // xc = SiLU(conv1d(x))
        mark("bwd conv+silu");
        launchConvBackward(lp, stream_);
        reduce(gemmGrad(gxpre_.get(), dI, dI, nullptr, 0, 1), d, GW.convBias);
        ReduceParams rc;
        rc.mode = ReduceMode::ConvWeight;
        rc.P = dI * K;
        rc.gxpre = gxpre_.get();
        rc.xz = L.xz.get();
        reduce(rc, d, GW.convWeight);
        // xz = in_proj(u)
        mark("bwd in_proj");
        reduce(gemmGrad(gxz_.get(), 2 * dI, 2 * dI, L.u.get(), dM, dM), d, GW.inProj);
        launchTrainLinear(linear(M, gxz_.get(), 2 * dI, 2 * dI, W.inProj, 1, dM, gu_.get(), dM, dM), stream_);
        // u = RMSNorm(r_in): gr += norm backward (gr already holds the residual path)
        RmsNormParams n;
        n.dims = d;
        n.r = L.rIn.get();
        n.w = W.norm;
        n.rstd = L.rstd.get();
        n.gu = gu_.get();
        n.gr = gr_.get();
        mark("bwd rmsnorm");
        launchRmsNormBackward(n, stream_);
        reduce(productGrad(gu_.get(), dM, L.rIn.get(), dM, L.rstd.get(), 1, dM), d, GW.norm);
    }
    // r0 = embW [x, cond] + embB
    mark("bwd embedding");
    reduce(gemmGrad(gr_.get(), dM, dM, feat_.get(), F, F), d, Gd.embWeight);
    reduce(gemmGrad(gr_.get(), dM, dM, nullptr, 0, 1), d, Gd.embBias);
}

} // namespace mfx::cuda::train
