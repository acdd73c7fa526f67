// CudaBackend: buffers, windows, state and the per-layer kernel sequence. Kernels in *.cu.
#include "CudaBackend.h"

#include "DeviceModel.h"
#include "Engine/Sanitize.h"
#include "Launch.h"
#include "ShapeSupport.h"

#include <algorithm>
#include <cstring>

namespace mfx::cuda {

struct CudaBackend::Impl {
    int device = 0;
    CudaOptions opt;
    cudaDeviceProp prop{};
    cudaStream_t stream = nullptr;
    cudaEvent_t done[2] = {nullptr, nullptr}; // host staging slot k is free again
    cudaEvent_t evStart = nullptr, evStop = nullptr;

    bool prepared = false;
    Config cfg;
    Shape sh{};
    int numStreams = 0;
    std::size_t wcap = 0;  // window capacity per stream (samples)
    int targetBlocks = 0;  // chunk blocks per window to fill the device
    std::unique_ptr<DeviceModel> dm;

    DeviceBuffer<float> dIn, dOut;   // (numStreams, wcap)
    DeviceBuffer<float> dCond;       // (numStreams, wcap, nCond)
    DeviceBuffer<float> res[2];      // (numStreams, dMpad, wcap) residual ping-pong between layers
    DeviceBuffer<float> chunkDt;     // (<= targetBlocks + numStreams, dInner)
    DeviceBuffer<float> chunkH;      // (<= targetBlocks + numStreams, dInner, dState)
    DeviceBuffer<float> conv[2];     // (numStreams, nLayers, dInner, dConv-1) ping-pong per window
    DeviceBuffer<float> ssm;         // (numStreams, nLayers, dInner, dState)
    DeviceBuffer<float> bX, bZ, bDt, bB, bC, bY; // baseline: (numStreams, dInner | dState, wcap)
    PinnedBuffer<float> pinIn[2], pinOut[2], pinCond[2]; // host staging, double-buffered
    int convCur = 0;
    float held[kMaxCond] = {};
    Pipeline pipeline = Pipeline::Chunked;
    KernelTimes times;

    void activate() const { MFX_CUDA_CHECK(cudaSetDevice(device)); }
    void requirePrepared() const {
        if (!prepared) throw ModelError("CUDA backend: prepare() must be called before processing");
    }
    std::size_t convPerStream() const { return static_cast<std::size_t>(sh.nLayers) * sh.dInner * (sh.dConv - 1); }
    std::size_t ssmPerStream() const { return static_cast<std::size_t>(sh.nLayers) * sh.dInner * sh.dState; }

    int chunkLenFor(int wl, int count) const {
        const int chunksPerStream = std::max(1, (targetBlocks + count - 1) / count);
        const int len = std::max((wl + chunksPerStream - 1) / chunksPerStream, sh.tile);
        return roundUp(len, sh.tile);
    }

    template <class F>
    void timed(double& acc, F&& launch) {
        if (!opt.profile) {
            launch();
            return;
        }
        MFX_CUDA_CHECK(cudaEventRecord(evStart, stream));
        launch();
        MFX_CUDA_CHECK(cudaEventRecord(evStop, stream));
        MFX_CUDA_CHECK(cudaEventSynchronize(evStop));
        float ms = 0;
        MFX_CUDA_CHECK(cudaEventElapsedTime(&ms, evStart, evStop));
        acc += ms;
    }

    // All layers over one window of `wl` samples per stream; in/out stream stride `stride`.
    void runWindow(const float* in, const float* cond, float* out, long long stride, int count, int wl) {
        const int chunkLen = chunkLenFor(wl, count);
        const int numChunks = (wl + chunkLen - 1) / chunkLen;
        const std::size_t convL = static_cast<std::size_t>(sh.dInner) * (sh.dConv - 1);
        const std::size_t ssmL = static_cast<std::size_t>(sh.dInner) * sh.dState;
        for (int l = 0; l < sh.nLayers; ++l) {
            LayerParams p{};
            p.sh = sh;
            p.count = count;
            p.windowLen = wl;
            p.chunkLen = chunkLen;
            p.numChunks = numChunks;
            p.isFirst = l == 0;
            p.isLast = l == sh.nLayers - 1;
            p.fastMath = opt.fastMath ? 1 : 0;
            p.prefetch = opt.prefetch ? 1 : 0;
            p.poisonSmem = opt.poisonSharedMemory ? 1 : 0;
            p.inStride = stride;
            p.resStride = static_cast<long long>(wcap);
            p.actStride = static_cast<long long>(wcap);
            const DeviceLayer& L = dm->layers[static_cast<std::size_t>(l)];
            p.inProjT = L.inProjT;
            p.convW = L.convW;
            p.convB = L.convB;
            p.xProjT = L.xProjT;
            p.dtW = L.dtW;
            p.dtB = L.dtB;
            p.A = L.A;
            p.D = L.D;
            p.outProjT = L.outProjT;
            p.embW = dm->embW;
            p.embB = dm->embB;
            p.headW = dm->headW;
            p.headBias = dm->headBias;
            p.skip = dm->skip;
            std::copy(std::begin(held), std::end(held), p.heldCond);
            p.in = in;
            p.cond = cond;
            p.rIn = l > 0 ? res[(l - 1) & 1].get() : nullptr;
            p.rOut = l < sh.nLayers - 1 ? res[l & 1].get() : nullptr;
            p.out = out;
            p.convIn = convL ? conv[convCur].get() + l * convL : nullptr;
            p.convOut = convL ? conv[convCur ^ 1].get() + l * convL : nullptr;
            p.convStride = static_cast<long long>(convPerStream());
            p.ssm = ssm.get() + l * ssmL;
            p.ssmStride = static_cast<long long>(ssmPerStream());
            p.chunkDt = chunkDt.get();
            p.chunkH = chunkH.get();
            p.bX = bX.get();
            p.bZ = bZ.get();
            p.bDt = bDt.get();
            p.bB = bB.get();
            p.bC = bC.get();
            p.bY = bY.get();
            if (pipeline == Pipeline::Chunked) {
                timed(times.localScan, [&] { launchLocalScan(p, stream); });
                timed(times.carryScan, [&] { launchCarryScan(p, stream); });
                timed(times.finish, [&] { launchFinish(p, FinishMode::Fused, stream); });
            } else {
                timed(times.materialize, [&] { launchFinish(p, FinishMode::Materialize, stream); });
                timed(times.baselineScan, [&] { launchBaselineScan(p, stream); });
                timed(times.finishFromY, [&] { launchFinish(p, FinishMode::FromY, stream); });
            }
        }
        convCur ^= 1;
    }

    void ensurePinned(bool withCond) {
        const std::size_t n = static_cast<std::size_t>(numStreams) * wcap;
        for (int k = 0; k < 2; ++k) {
            if (!pinIn[k].get()) pinIn[k].allocate(n);
            if (!pinOut[k].get()) pinOut[k].allocate(n);
            if (withCond && !pinCond[k].get()) pinCond[k].allocate(n * static_cast<std::size_t>(sh.nCond));
        }
        if (withCond && !dCond.get()) dCond.allocate(n * static_cast<std::size_t>(sh.nCond));
    }
};

CudaBackend::CudaBackend(int device, const CudaOptions& options) : impl_(std::make_unique<Impl>()) {
    Impl& I = *impl_;
    I.device = device;
    I.opt = options;
    I.activate();
    MFX_CUDA_CHECK(cudaGetDeviceProperties(&I.prop, device));
    MFX_CUDA_CHECK(cudaStreamCreateWithFlags(&I.stream, cudaStreamNonBlocking));
    for (auto& e : I.done) MFX_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    MFX_CUDA_CHECK(cudaEventCreate(&I.evStart));
    MFX_CUDA_CHECK(cudaEventCreate(&I.evStop));
}

CudaBackend::~CudaBackend() {
    Impl& I = *impl_;
    MFX_CUDA_IGNORE(cudaSetDevice(I.device));
    if (I.stream) MFX_CUDA_IGNORE(cudaStreamSynchronize(I.stream));
    for (auto e : {I.done[0], I.done[1], I.evStart, I.evStop})
        if (e) MFX_CUDA_IGNORE(cudaEventDestroy(e));
    if (I.stream) MFX_CUDA_IGNORE(cudaStreamDestroy(I.stream));
    // Buffers are freed by impl_'s destructor with this device current.
}

std::string CudaBackend::name() const { return "cuda:" + std::to_string(impl_->device) + " (" + impl_->prop.name + ")"; }
int CudaBackend::device() const { return impl_->device; }
std::size_t CudaBackend::windowSamples() const { return impl_->wcap; }
int CudaBackend::chunkLength(int windowLen, int count) const { return impl_->chunkLenFor(windowLen, count); }
const KernelTimes& CudaBackend::kernelTimes() const { return impl_->times; }
void CudaBackend::clearKernelTimes() { impl_->times = {}; }

void CudaBackend::prepare(const Model& model, int numStreams) {
    Impl& I = *impl_;
    I.activate();
    std::string why;
    if (!shapeSupported(model.config, why, static_cast<int>(I.prop.sharedMemPerBlockOptin))) throw ModelError(why);
    if (numStreams < 1) throw ModelError("CUDA backend: numStreams must be >= 1");
    MFX_CUDA_CHECK(cudaStreamSynchronize(I.stream));
    I.prepared = false;
    I.cfg = model.config;
    if (I.opt.tile != 0 && I.opt.tile != 32 && I.opt.tile != 64 && I.opt.tile != 128)
        throw ModelError("CUDA backend: tile = " + std::to_string(I.opt.tile) + " (use 32, 64 or 128)");
    if (I.opt.chunkWaves < 1) throw ModelError("CUDA backend: chunkWaves must be >= 1");
    I.sh = makeShape(model.config, I.opt.tile);
    if (smemBytes(I.sh, true) > static_cast<int>(I.prop.sharedMemPerBlockOptin))
        throw ModelError("CUDA backend: tile " + std::to_string(I.sh.tile) + " needs more shared memory than the device has");
    if (const int npt = I.opt.statesPerThread; npt > 0) {
        const int groups = I.sh.nP / npt;
        if ((npt & (npt - 1)) || npt > 64 || I.sh.nP % npt || groups > 32 || I.sh.dInner * groups > kThreads)
            throw ModelError("CUDA backend: statesPerThread = " + std::to_string(npt) + " does not fit this shape (dInner " +
                             std::to_string(I.sh.dInner) + ", padded dState " + std::to_string(I.sh.nP) + ")");
        I.sh.npt = npt;
        I.sh.groups = groups;
    }
    I.numStreams = numStreams;
    const std::size_t perStream = std::max<std::size_t>(I.opt.maxSamplesInFlight / static_cast<std::size_t>(numStreams), 4096);
    I.wcap = I.opt.windowSamples ? I.opt.windowSamples : (perStream + 63) / 64 * 64;
    const int smem = smemBytes(I.sh, true) + 1024;
    const int blocksPerSm = std::clamp(static_cast<int>(I.prop.sharedMemPerMultiprocessor) / smem, 1, 2048 / kThreads);
    I.targetBlocks = I.prop.multiProcessorCount * blocksPerSm * I.opt.chunkWaves;

    I.dm = std::make_unique<DeviceModel>(model, I.sh, I.stream);
    const std::size_t S = static_cast<std::size_t>(numStreams), W = I.wcap;
    I.dIn.allocate(S * W);
    I.dOut.allocate(S * W);
    I.dCond.release();
    for (int k = 0; k < 2; ++k) {
        I.res[k].allocate(I.sh.nLayers > k + 1 ? S * static_cast<std::size_t>(I.sh.dMpad) * W : 0);
        I.conv[k].allocate(S * I.convPerStream());
        I.pinIn[k].release();
        I.pinOut[k].release();
        I.pinCond[k].release();
    }
    const std::size_t maxChunks = static_cast<std::size_t>(I.targetBlocks) + S;
    I.chunkDt.allocate(maxChunks * static_cast<std::size_t>(I.sh.dInner));
    I.chunkH.allocate(maxChunks * static_cast<std::size_t>(I.sh.dInner) * static_cast<std::size_t>(I.sh.dState));
    I.ssm.allocate(S * I.ssmPerStream());
    for (auto* b : {&I.bX, &I.bZ, &I.bDt, &I.bB, &I.bC, &I.bY}) b->release();
    std::fill(std::begin(I.held), std::end(I.held), 0.0f);
    I.prepared = true;
    setPipeline(I.pipeline);
    reset();
}

void CudaBackend::setPipeline(Pipeline pipeline) {
    Impl& I = *impl_;
    I.pipeline = pipeline;
    if (pipeline != Pipeline::Baseline || !I.prepared || I.bX.get()) return;
    I.activate();
    const std::size_t SW = static_cast<std::size_t>(I.numStreams) * I.wcap;
    for (auto* b : {&I.bX, &I.bZ, &I.bDt, &I.bY}) b->allocate(SW * static_cast<std::size_t>(I.sh.dInner));
    for (auto* b : {&I.bB, &I.bC}) b->allocate(SW * static_cast<std::size_t>(I.sh.dState));
}

void CudaBackend::process(const float* const* in, float* const* out, int count, std::size_t n, const float* const* cond) {
    Impl& I = *impl_;
    I.requirePrepared();
    if (count < 0 || count > I.numStreams)
        throw ModelError("CUDA backend: " + std::to_string(count) + " streams requested, " +
                         std::to_string(I.numStreams) + " prepared");
    if (n == 0 || count == 0) return;
    I.activate();
    const bool useCond = cond != nullptr && I.sh.nCond > 0;
    I.ensurePinned(useCond);
    const std::size_t W = I.wcap, nc = static_cast<std::size_t>(I.sh.nCond);
    const std::size_t numWindows = (n + W - 1) / W;
    auto drain = [&](std::size_t k) { // window k's output: pinned slot -> caller
        const int slot = static_cast<int>(k & 1);
        MFX_CUDA_CHECK(cudaEventSynchronize(I.done[slot]));
        const std::size_t w0 = k * W, wl = std::min(W, n - w0);
        for (int s = 0; s < count; ++s)
            std::memcpy(out[s] + w0, I.pinOut[slot].get() + static_cast<std::size_t>(s) * W, wl * sizeof(float));
    };
    for (std::size_t k = 0; k < numWindows; ++k) {
        const int slot = static_cast<int>(k & 1);
        if (k >= 2) drain(k - 2); // slot is free again: its last window has been copied out
        const std::size_t w0 = k * W, wl = std::min(W, n - w0);
        for (int s = 0; s < count; ++s)
            std::memcpy(I.pinIn[slot].get() + static_cast<std::size_t>(s) * W, in[s] + w0, wl * sizeof(float));
        MFX_CUDA_CHECK(cudaMemcpy2DAsync(I.dIn.get(), W * sizeof(float), I.pinIn[slot].get(), W * sizeof(float),
                                         wl * sizeof(float), static_cast<std::size_t>(count), cudaMemcpyHostToDevice, I.stream));
        const float* dCond = nullptr;
        if (useCond) {
            for (int s = 0; s < count; ++s) {
                float* dst = I.pinCond[slot].get() + static_cast<std::size_t>(s) * W * nc;
                if (cond[s]) std::memcpy(dst, cond[s] + w0 * nc, wl * nc * sizeof(float));
                else
                    for (std::size_t t = 0; t < wl; ++t) std::copy(I.held, I.held + nc, dst + t * nc);
            }
            MFX_CUDA_CHECK(cudaMemcpy2DAsync(I.dCond.get(), W * nc * sizeof(float), I.pinCond[slot].get(),
                                             W * nc * sizeof(float), wl * nc * sizeof(float),
                                             static_cast<std::size_t>(count), cudaMemcpyHostToDevice, I.stream));
            dCond = I.dCond.get();
        }
        I.runWindow(I.dIn.get(), dCond, I.dOut.get(), static_cast<long long>(W), count, static_cast<int>(wl));
        MFX_CUDA_CHECK(cudaMemcpy2DAsync(I.pinOut[slot].get(), W * sizeof(float), I.dOut.get(), W * sizeof(float),
                                         wl * sizeof(float), static_cast<std::size_t>(count), cudaMemcpyDeviceToHost, I.stream));
        MFX_CUDA_CHECK(cudaEventRecord(I.done[slot], I.stream));
    }
    for (std::size_t k = numWindows >= 2 ? numWindows - 2 : 0; k < numWindows; ++k) drain(k);
}

void CudaBackend::processDevice(const float* dIn, float* dOut, int count, std::size_t n, std::size_t stride) {
    Impl& I = *impl_;
    I.requirePrepared();
    if (count < 0 || count > I.numStreams) throw ModelError("CUDA backend: more streams than prepared");
    I.activate();
    for (std::size_t w0 = 0; w0 < n; w0 += I.wcap) {
        const std::size_t wl = std::min(I.wcap, n - w0);
        I.runWindow(dIn + w0, nullptr, dOut + w0, static_cast<long long>(stride), count, static_cast<int>(wl));
    }
    MFX_CUDA_CHECK(cudaStreamSynchronize(I.stream));
}

void CudaBackend::setConditioning(const float* values) {
    Impl& I = *impl_;
    for (int c = 0; c < I.cfg.nCond && c < kMaxCond; ++c) I.held[c] = values ? sanitizeSample(values[c]) : 0.0f;
}

void CudaBackend::reset() {
    Impl& I = *impl_;
    I.requirePrepared();
    I.activate();
    for (auto* b : {&I.conv[0], &I.conv[1], &I.ssm})
        if (b->get()) MFX_CUDA_CHECK(cudaMemsetAsync(b->get(), 0, b->size() * sizeof(float), I.stream));
    MFX_CUDA_CHECK(cudaStreamSynchronize(I.stream));
}

State CudaBackend::getState(int stream) const {
    const Impl& I = *impl_;
    I.requirePrepared();
    if (stream < 0 || stream >= I.numStreams) throw ModelError("CUDA backend: no stream " + std::to_string(stream));
    I.activate();
    MFX_CUDA_CHECK(cudaStreamSynchronize(I.stream));
    const std::size_t cs = I.convPerStream(), ss = I.ssmPerStream();
    std::vector<float> cv(cs), sv(ss);
    if (cs) MFX_CUDA_CHECK(cudaMemcpy(cv.data(), I.conv[I.convCur].get() + stream * cs, cs * sizeof(float), cudaMemcpyDeviceToHost));
    MFX_CUDA_CHECK(cudaMemcpy(sv.data(), I.ssm.get() + stream * ss, ss * sizeof(float), cudaMemcpyDeviceToHost));
    State st(I.cfg);
    const std::size_t cl = cs / static_cast<std::size_t>(I.sh.nLayers), sl = ss / static_cast<std::size_t>(I.sh.nLayers);
    for (std::size_t l = 0; l < st.layers.size(); ++l) {
        std::copy(cv.begin() + static_cast<std::ptrdiff_t>(l * cl), cv.begin() + static_cast<std::ptrdiff_t>((l + 1) * cl), st.layers[l].conv.begin());
        std::copy(sv.begin() + static_cast<std::ptrdiff_t>(l * sl), sv.begin() + static_cast<std::ptrdiff_t>((l + 1) * sl), st.layers[l].ssm.begin());
    }
    return st;
}

void CudaBackend::setState(int stream, const State& state) {
    Impl& I = *impl_;
    I.requirePrepared();
    if (stream < 0 || stream >= I.numStreams) throw ModelError("CUDA backend: no stream " + std::to_string(stream));
    const std::size_t cs = I.convPerStream(), ss = I.ssmPerStream();
    const std::size_t cl = cs / static_cast<std::size_t>(I.sh.nLayers), sl = ss / static_cast<std::size_t>(I.sh.nLayers);
    if (state.layers.size() != static_cast<std::size_t>(I.sh.nLayers))
        throw ModelError("CUDA backend: state has " + std::to_string(state.layers.size()) + " layers, the model " +
                         std::to_string(I.sh.nLayers));
    std::vector<float> cv, sv;
    for (const auto& L : state.layers) {
        if (L.conv.size() != cl || L.ssm.size() != sl) throw ModelError("CUDA backend: state shape does not match the model");
        cv.insert(cv.end(), L.conv.begin(), L.conv.end());
        sv.insert(sv.end(), L.ssm.begin(), L.ssm.end());
    }
    I.activate();
    MFX_CUDA_CHECK(cudaStreamSynchronize(I.stream));
    // On the kernels' stream, waited for: a plain cudaMemcpy from pageable memory may return before its
    // DMA lands, and nothing would order it before the next kernels on this non-blocking stream.
    if (cs)
        MFX_CUDA_CHECK(cudaMemcpyAsync(I.conv[I.convCur].get() + stream * cs, cv.data(), cs * sizeof(float),
                                       cudaMemcpyHostToDevice, I.stream));
    MFX_CUDA_CHECK(cudaMemcpyAsync(I.ssm.get() + stream * ss, sv.data(), ss * sizeof(float), cudaMemcpyHostToDevice, I.stream));
    MFX_CUDA_CHECK(cudaStreamSynchronize(I.stream));
}

} // namespace mfx::cuda
