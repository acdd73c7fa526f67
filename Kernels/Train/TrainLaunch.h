#pragma once
// The exported entry point of each training .cu file. Each launches its kernel(s) on `stream` and
// checks every launch (CudaCheck.h).
#include "TrainParams.h"

#include <cuda_runtime.h>

namespace mfx::cuda::train {

void launchTrainLinear(const LinearParams& p, cudaStream_t stream);         // TrainLinear.cu
void launchTrainReduce(const ReduceParams& p, cudaStream_t stream);         // TrainReduce.cu
void launchRmsNormForward(const RmsNormParams& p, cudaStream_t stream);     // TrainRmsNormForward.cu
void launchRmsNormBackward(const RmsNormParams& p, cudaStream_t stream);    // TrainRmsNormBackward.cu
void launchConvForward(const LayerTrainParams& p, cudaStream_t stream);     // TrainConvForward.cu
void launchDtForward(const LayerTrainParams& p, cudaStream_t stream);       // TrainDtForward.cu
void launchScanForward(const LayerTrainParams& p, cudaStream_t stream);     // TrainScanForward.cu
void launchGateForward(const LayerTrainParams& p, cudaStream_t stream);     // TrainGateForward.cu
void launchHeadForward(const HeadParams& p, cudaStream_t stream);           // TrainHeadForward.cu
void launchGateBackward(const LayerTrainParams& p, cudaStream_t stream);    // TrainGateBackward.cu
void launchScanBackward(const LayerTrainParams& p, cudaStream_t stream);    // TrainScanBackward.cu
void launchScanBackwardPost(const LayerTrainParams& p, cudaStream_t stream); // TrainScanBackwardPost.cu
void launchConvBackward(const LayerTrainParams& p, cudaStream_t stream);    // TrainConvBackward.cu

} // namespace mfx::cuda::train
