#pragma once
// The CUDA gradient backend (Source/Train/GradientBackend.h): the whole model's forward pass with
// every activation saved, and its exact backward pass, for a batch of segments on one GPU.
//
// Layout: rows m = b * L + t over the batch (TrainParams.h). Linear layers are one thread per output
// element; the scan runs one thread per (segment, time chunk, channel, state), forward and reverse,
// time-parallel over chunks of each segment when the batch alone does not fill the GPU, saving h_t
// and d/dh_t so every other gradient is an element-wise or reduction kernel; parameter gradients
// are deterministic two-pass reductions (float per chunk of 32-1024 rows, float64 over chunks). The loss and its gradient w.r.t. the output are computed on the host with Loss.h, the
// same code the CPU backend uses.
#include "../DeviceBuffer.h"
#include "TrainParams.h"
#include "Train/GradientBackend.h"

#include <cuda_runtime.h>

#include <string>
#include <utility>
#include <vector>

namespace mfx::cuda::train {

class CudaGradientBackend final : public mfx::train::GradientBackend {
public:
    // Throws ModelError on CUDA errors.
    CudaGradientBackend(int device, const Config& config);
    ~CudaGradientBackend() override;

    std::string name() const override { return name_; }
    double lossAndGradient(const std::vector<double>& params, const mfx::train::SegmentBatch& batch, double denominator,
                           const mfx::train::LossOptions& loss, std::vector<double>& grad) override;
    std::vector<float> lastOutput() const override { return hOut_; }
    std::string profileReport() const override;

private:
    struct LayerBuffers {
        DeviceBuffer<float> rIn, rstd, u, xz, xpre, xc, xdb, dtLin, dt, H, yss, gated;
    };
    void reserve(long long M);
    void chooseScanChunks(const TrainDims& d); // sets scanChunk_, sizes the chunk scratch
    void upload(const std::vector<double>& params, const mfx::train::SegmentBatch& batch);
    void forward(const TrainDims& d);
    void backward(const TrainDims& d);
    LayerTrainParams layerParams(int l, const TrainDims& d);
    void reduce(ReduceParams r, const TrainDims& d, double* grad);
    // Profiling (MFX_TRAIN_PROFILE set): the stream time from one mark to the next counts as the
    // first mark's name; summed over calls.
    void mark(const char* name);
    void collectProfile();

    int device_ = 0;
    std::string name_;
    Config c_;
    mfx::train::ParamLayout layout_;
    cudaStream_t stream_ = nullptr;
    long long capacity_ = 0; // rows the buffers hold
    long long chunks_ = 0;   // reduction chunks at capacity
    int maxP_ = 0;           // widest reduction

    DeviceBuffer<float> params_; // (layout.total) float copy of the parameters
    DeviceBuffer<float> A_;      // (nLayers, dInner, dState)  -exp(A_log)
    DeviceBuffer<double> grad_;  // (layout.total)
    DeviceBuffer<float> feat_;   // (M, 1 + nCond)
    std::vector<LayerBuffers> layers_;
    DeviceBuffer<float> rF_, rstdF_, f_, out_, gOut_; // (M, dModel), (M), (M, dModel), (M), (M)
    DeviceBuffer<float> gr_, gu_;                      // (M, dModel)
    DeviceBuffer<float> gGated_, gyss_, gxc_, gxpre_, gdtLin_; // (M, dInner)
    DeviceBuffer<float> gxz_;                          // (M, 2*dInner)
    DeviceBuffer<float> gxdb_;                         // (M, xProjOut)
    DeviceBuffer<float> G_;                            // (M, dInner, dState)
    DeviceBuffer<float> partials_;                     // (chunks, maxP)
    DeviceBuffer<float> chunkEnd_, chunkDecay_;        // (batch, scan chunks, dInner, dState)
    int sms_ = 1;                                      // the device's multiprocessors
    int scanChunkOverride_ = -1;                       // MFX_TRAIN_SCAN_CHUNK (0: sequential), -1: automatic
    int scanChunk_ = 0;                                // this call's steps per scan chunk

    bool profile_ = false;
    std::vector<std::pair<const char*, cudaEvent_t>> marks_; // this call's marks
    std::vector<std::pair<std::string, double>> totals_;     // name -> milliseconds, first-seen order
    long profiledCalls_ = 0;

    std::vector<float> hFeat_, hOut_, hGOut_, hParams_, hA_; // host staging
    std::vector<double> hGrad_;
};

} // namespace mfx::cuda::train
