// Host side of the CUDA gradient backend: buffers, uploads, the scan chunking, profiling and the loss
// on the host (the forward and backward launch sequences: CudaTrainerPasses.cpp).
#include "CudaTrainer.h"

#include "../CudaCheck.h"
#include "Engine/Sanitize.h"
#include "TrainLaunch.h"
#include "Train/Parallel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace mfx::cuda::train {

namespace {
// Rows per float partial sum of the reductions: enough chunks (up to kMaxReduceChunks) that the
// partial sums fill the GPU at small batches, at most 1024 rows each. A function of M only, so a
// batch's gradient is the same bits every run.
constexpr long long kMaxReduceChunks = 1024;
long long reduceChunkRows(long long M) {
    const long long rows = (M + kMaxReduceChunks - 1) / kMaxReduceChunks;
    return std::clamp((rows + 31) / 32 * 32, 32ll, 1024ll);
}
// At least the chunks of any batch of up to M rows.
long long reduceChunksBound(long long M) { return std::max(std::min(kMaxReduceChunks, (M + 31) / 32), (M + 1023) / 1024); }
} // namespace

CudaGradientBackend::CudaGradientBackend(int device, const Config& config)
    : device_(device), c_(config), layout_(config), layers_(static_cast<std::size_t>(config.nLayers)) {
    MFX_CUDA_CHECK(cudaSetDevice(device_));
    cudaDeviceProp prop{};
    MFX_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    name_ = "cuda:" + std::to_string(device_) + " (" + prop.name + ")";
    params_.allocate(layout_.total);
    grad_.allocate(layout_.total);
    A_.allocate(static_cast<std::size_t>(c_.nLayers) * static_cast<std::size_t>(c_.dInner() * c_.dState));
    profile_ = std::getenv("MFX_TRAIN_PROFILE") != nullptr;
    sms_ = prop.multiProcessorCount;
    if (const char* v = std::getenv("MFX_TRAIN_SCAN_CHUNK")) {
        // steps per chunk, 0 = sequential; anything that is not such a number: automatic
        char* end = nullptr;
        const long n = std::strtol(v, &end, 10);
        if (end != v && *end == '\0' && n >= 0 && n <= (1l << 30)) scanChunkOverride_ = static_cast<int>(n);
    }
    MFX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); // last: nothing can throw after it
    const int dM = c_.dModel, dI = c_.dInner(), N = c_.dState, K = c_.dConv, R = c_.dtRank, XO = c_.xProjOut(), F = 1 + c_.nCond;
    maxP_ = std::max({2 * dI * dM, XO * dI, dI * N, dI * K, dM * F, dI * R, dM * dI, dM, dI, 1});
}

CudaGradientBackend::~CudaGradientBackend() {
    for (auto& m : marks_) MFX_CUDA_IGNORE(cudaEventDestroy(m.second));
    if (stream_) MFX_CUDA_IGNORE(cudaStreamDestroy(stream_));
}

void CudaGradientBackend::mark(const char* name) {
    if (!profile_) return;
    cudaEvent_t e = nullptr;
    MFX_CUDA_CHECK(cudaEventCreate(&e));
    marks_.emplace_back(name, e);
    MFX_CUDA_CHECK(cudaEventRecord(e, stream_));
}

void CudaGradientBackend::collectProfile() {
    if (!profile_ || marks_.empty()) return;
    MFX_CUDA_CHECK(cudaEventSynchronize(marks_.back().second));
    for (std::size_t i = 0; i + 1 < marks_.size(); ++i) {
        float ms = 0;
        MFX_CUDA_CHECK(cudaEventElapsedTime(&ms, marks_[i].second, marks_[i + 1].second));
        auto it = std::find_if(totals_.begin(), totals_.end(), [&](const auto& t) { return t.first == marks_[i].first; });
        if (it == totals_.end()) totals_.emplace_back(marks_[i].first, ms);
        else it->second += ms;
    }
    for (auto& m : marks_) MFX_CUDA_IGNORE(cudaEventDestroy(m.second));
    marks_.clear();
    ++profiledCalls_;
}

std::string CudaGradientBackend::profileReport() const {
    if (!profile_ || profiledCalls_ == 0) return {};
    double all = 0;
    for (const auto& t : totals_) all += t.second;
    auto sorted = totals_;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string r = "time per step by part (" + std::to_string(profiledCalls_) + " steps, " + name_ + "):\n";
    char line[160];
    for (const auto& t : sorted) {
        std::snprintf(line, sizeof line, "  %-28s %8.3f ms  %5.1f %%\n", t.first.c_str(), t.second / static_cast<double>(profiledCalls_),
                      100.0 * t.second / all);
        r += line;
    }
    return r;
}

void CudaGradientBackend::reserve(long long M) {
    if (M <= capacity_) return;
    const std::size_t m = static_cast<std::size_t>(M);
    const std::size_t dM = static_cast<std::size_t>(c_.dModel), dI = static_cast<std::size_t>(c_.dInner()),
                      N = static_cast<std::size_t>(c_.dState), XO = static_cast<std::size_t>(c_.xProjOut()),
                      F = static_cast<std::size_t>(1 + c_.nCond);
    const std::size_t chunks = static_cast<std::size_t>(reduceChunksBound(M));
    // Floats per row: the saved activations of every layer (rIn, rstd, u, xz, xpre, xc, dtLin, dt, yss,
    // gated, xdb, H), the final norm/head, the backward scratch.
    const std::size_t perLayer = dM + 1 + dM + 2 * dI + 6 * dI + XO + dI * N;
    const std::size_t perRow = F + static_cast<std::size_t>(c_.nLayers) * perLayer + (2 * dM + 3) + (2 * dM + 5 * dI + 2 * dI + XO + dI * N);
    // Not counted: the scans' chunk carries (chooseScanChunks: 2 floats per lane and chunk, lanes x
    // chunks near 1,024 per SM: 1 to 2 MB on an H200, unless MFX_TRAIN_SCAN_CHUNK asks for tiny
    // chunks); the 8 % left free below covers them.
    const double need = static_cast<double>(m) * static_cast<double>(perRow) * 4.0 + static_cast<double>(chunks * maxP_) * 4.0;
    std::size_t freeB = 0, totalB = 0;
    MFX_CUDA_CHECK(cudaMemGetInfo(&freeB, &totalB));
    // The old buffers are released one by one as the new, larger ones replace them: their memory
    // counts as free.
    double held = static_cast<double>(capacity_) * static_cast<double>(perRow) * 4.0;
    if (need > 0.92 * (static_cast<double>(freeB) + held)) {
        char msg[256];
        std::snprintf(msg, sizeof msg,
                      "a training batch of %lld samples needs %.1f GiB of GPU memory, %.1f GiB are free; use a smaller "
                      "--batch or --segment",
                      M, need / 1073741824.0, (static_cast<double>(freeB) + held) / 1073741824.0);
        throw ModelError(msg);
    }
    capacity_ = 0;
    feat_.allocate(m * F);
    for (auto& L : layers_) {
        L.rIn.allocate(m * dM);
        L.rstd.allocate(m);
        L.u.allocate(m * dM);
        L.xz.allocate(m * 2 * dI);
        L.xpre.allocate(m * dI);
        L.xc.allocate(m * dI);
        L.xdb.allocate(m * XO);
        L.dtLin.allocate(m * dI);
        L.dt.allocate(m * dI);
        L.H.allocate(m * dI * N);
        L.yss.allocate(m * dI);
        L.gated.allocate(m * dI);
    }
    rF_.allocate(m * dM);
    rstdF_.allocate(m);
    f_.allocate(m * dM);
    out_.allocate(m);
    gOut_.allocate(m);
    gr_.allocate(m * dM);
    gu_.allocate(m * dM);
    gGated_.allocate(m * dI);
    gyss_.allocate(m * dI);
    gxc_.allocate(m * dI);
    gxpre_.allocate(m * dI);
    gdtLin_.allocate(m * dI);
    gxz_.allocate(m * 2 * dI);
    gxdb_.allocate(m * XO);
    G_.allocate(m * dI * N);
    partials_.allocate(chunks * static_cast<std::size_t>(maxP_));
    capacity_ = M;
    chunks_ = static_cast<long long>(chunks);
}

void CudaGradientBackend::chooseScanChunks(const TrainDims& d) {
    // The scans have batch * dInner * dState independent lanes; split each segment into time chunks
    // until there are about 1,024 threads per SM, chunks of at least kMinScanChunk steps.
    constexpr long long kMinScanChunk = 64;
    const long long lanes = static_cast<long long>(d.batch) * d.dInner * d.dState;
    long long len = d.L;
    if (scanChunkOverride_ >= 0) {
        len = scanChunkOverride_ == 0 ? d.L : std::min<long long>(scanChunkOverride_, d.L);
    } else {
        const long long target = 1024ll * std::max(1, sms_);
        const long long maxChunks = std::max(1ll, d.L / kMinScanChunk);
        const long long chunks = std::clamp((target + lanes - 1) / lanes, 1ll, maxChunks);
        len = (d.L + chunks - 1) / chunks;
    }
    scanChunk_ = static_cast<int>(std::max(1ll, len));
    const long long chunks = (d.L + scanChunk_ - 1) / scanChunk_;
    const std::size_t need = chunks > 1 ? static_cast<std::size_t>(lanes * chunks) : 0;
    if (need > chunkEnd_.size() || need > chunkDecay_.size()) {
        chunkEnd_.allocate(need);
        chunkDecay_.allocate(need);
    }
}

void CudaGradientBackend::upload(const std::vector<double>& params, const mfx::train::SegmentBatch& batch) {
    const std::size_t B = batch.size(), L = batch.length, F = static_cast<std::size_t>(1 + c_.nCond);
    // feat = [sample, cond...], sanitised as every engine does: (M, 1 + nCond)
    hFeat_.resize(B * L * F);
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t t = 0; t < L; ++t) {
            float* row = hFeat_.data() + (b * L + t) * F;
            row[0] = sanitizeSample(batch.input[b][t]);
            for (std::size_t j = 1; j < F; ++j) row[j] = sanitizeSample(batch.cond[b][j - 1]);
        }
    MFX_CUDA_CHECK(cudaMemcpyAsync(feat_.get(), hFeat_.data(), hFeat_.size() * sizeof(float), cudaMemcpyHostToDevice, stream_));
    // Parameters rounded to float (as the CPU tape does), and A = -exp(A_log) computed in float.
    hParams_.resize(layout_.total);
    for (std::size_t i = 0; i < layout_.total; ++i) hParams_[i] = static_cast<float>(params[i]);
    const auto view = mfx::train::viewParams<const float>(layout_, hParams_.data());
    const std::size_t per = static_cast<std::size_t>(c_.dInner() * c_.dState);
    hA_.resize(static_cast<std::size_t>(c_.nLayers) * per);
    for (int l = 0; l < c_.nLayers; ++l)
        for (std::size_t i = 0; i < per; ++i) hA_[static_cast<std::size_t>(l) * per + i] = -std::exp(view.layers[static_cast<std::size_t>(l)].ALog[i]);
    MFX_CUDA_CHECK(cudaMemcpyAsync(params_.get(), hParams_.data(), hParams_.size() * sizeof(float), cudaMemcpyHostToDevice, stream_));
    MFX_CUDA_CHECK(cudaMemcpyAsync(A_.get(), hA_.data(), hA_.size() * sizeof(float), cudaMemcpyHostToDevice, stream_));
}

LayerTrainParams CudaGradientBackend::layerParams(int l, const TrainDims& d) {
    const auto P = mfx::train::viewParams<const float>(layout_, params_.get());
    const auto& W = P.layers[static_cast<std::size_t>(l)];
    auto& L = layers_[static_cast<std::size_t>(l)];
    LayerTrainParams p;
    p.dims = d;
    p.convWeight = W.convWeight;
    p.convBias = W.convBias;
    p.dtWeight = W.dtWeight;
    p.dtBias = W.dtBias;
    p.A = A_.get() + static_cast<std::size_t>(l) * static_cast<std::size_t>(d.dInner * d.dState);
    p.D = W.D;
    p.xz = L.xz.get();
    p.xpre = L.xpre.get();
    p.xc = L.xc.get();
    p.xdb = L.xdb.get();
    p.dtLin = L.dtLin.get();
    p.dt = L.dt.get();
    p.H = L.H.get();
    p.yss = L.yss.get();
    p.gated = L.gated.get();
    p.gGated = gGated_.get();
    p.gyss = gyss_.get();
    p.gxz = gxz_.get();
    p.gxc = gxc_.get();
    p.gxpre = gxpre_.get();
    p.gdtLin = gdtLin_.get();
    p.gxdb = gxdb_.get();
    p.G = G_.get();
    p.scanChunk = scanChunk_;
    p.chunkEnd = chunkEnd_.get();
    p.chunkDecay = chunkDecay_.get();
    return p;
}

void CudaGradientBackend::reduce(ReduceParams r, const TrainDims& d, double* grad) {
    r.dims = d;
    r.partials = partials_.get();
    r.chunkRows = reduceChunkRows(d.M);
    r.grad = grad;
    launchTrainReduce(r, stream_);
}


double CudaGradientBackend::lossAndGradient(const std::vector<double>& params, const mfx::train::SegmentBatch& batch,
                                            double denominator, const mfx::train::LossOptions& loss, std::vector<double>& grad) {
    if (params.size() != layout_.total) throw ModelError("parameter vector does not match the model");
    const std::size_t B = batch.size(), L = batch.length;
    if (B == 0 || L == 0) {
        grad.assign(layout_.total, 0.0);
        hOut_.clear();
        return 0.0;
    }
    if (L > 0x7fffffffu) throw ModelError("training segment too long for the CUDA backend");
    if (batch.target.size() != B || (c_.nCond > 0 && batch.cond.size() != B))
        throw ModelError("training batch: every segment needs a target" + std::string(c_.nCond > 0 ? " and conditioning values" : ""));
    MFX_CUDA_CHECK(cudaSetDevice(device_));
    for (auto& m : marks_) MFX_CUDA_IGNORE(cudaEventDestroy(m.second)); // left by a call that threw
    marks_.clear();
    TrainDims d;
    d.M = static_cast<long long>(B * L);
    d.L = static_cast<int>(L);
    d.batch = static_cast<int>(B);
    d.dModel = c_.dModel;
    d.dInner = c_.dInner();
    d.dState = c_.dState;
    d.dConv = c_.dConv;
    d.dtRank = c_.dtRank;
    d.xProjOut = c_.xProjOut();
    d.nFeat = 1 + c_.nCond;
    reserve(d.M);
    chooseScanChunks(d);
    mark("upload (host prep + copies)");
    upload(params, batch);
    forward(d);
    mark("output copy + host loss");
    hOut_.resize(B * L);
    MFX_CUDA_CHECK(cudaMemcpyAsync(hOut_.data(), out_.get(), hOut_.size() * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    MFX_CUDA_CHECK(cudaStreamSynchronize(stream_));
    // The loss and d(loss)/d(out) on the host, with the CPU backend's code.
    // Segments on host threads (the STFT term's FFTs are the costly part), summed in segment order.
    hGOut_.resize(B * L);
    std::vector<double> segLoss(B, 0.0);
    const int threads = static_cast<int>(std::min<std::size_t>(B, std::max(1u, std::thread::hardware_concurrency())));
    mfx::train::runOnThreads(threads, [&](int w) {
        for (std::size_t b = static_cast<std::size_t>(w); b < B; b += static_cast<std::size_t>(threads))
            segLoss[b] = mfx::train::segmentLossAndGrad(hOut_.data() + b * L, batch.target[b], L, batch.warmup, denominator,
                                                        static_cast<int>(B), loss, hGOut_.data() + b * L);
    });
    double num = 0;
    for (double v : segLoss) num += v;
    MFX_CUDA_CHECK(cudaMemcpyAsync(gOut_.get(), hGOut_.data(), hGOut_.size() * sizeof(float), cudaMemcpyHostToDevice, stream_));
    backward(d);
    mark("gradient copy");
    hGrad_.resize(layout_.total);
    MFX_CUDA_CHECK(cudaMemcpyAsync(hGrad_.data(), grad_.get(), hGrad_.size() * sizeof(double), cudaMemcpyDeviceToHost, stream_));
    mark("end");
    MFX_CUDA_CHECK(cudaStreamSynchronize(stream_));
    collectProfile();
    grad = hGrad_;
    return num;
}

} // namespace mfx::cuda::train

namespace mfx::train {

std::unique_ptr<GradientBackend> makeCudaGradientBackend(int deviceIndex, const Config& config, std::string& whyNot) {
    if (!mfx::cuda::deviceExists(deviceIndex, whyNot)) return nullptr;
    try {
        return std::make_unique<mfx::cuda::train::CudaGradientBackend>(deviceIndex, config);
    } catch (const ModelError& err) {
        whyNot = err.what();
        return nullptr;
    }
}

} // namespace mfx::train
