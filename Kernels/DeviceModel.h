#pragma once
// A model's weights on the device, in the padded, transposed layouts the kernels read
// (LayerParams.h). RMSNorm weights are folded into in_proj (per layer) and head (norm_f).
#include "DeviceBuffer.h"
#include "LayerParams.h"
#include "Model/Weights.h"

#include <vector>

namespace mfx::cuda {

struct DeviceLayer {
    const float* inProjT;  // (dModel, 2*dIpad)  in_proj.weight^T * norm.weight
    const float* convW;    // (dInner, dConv)
    const float* convB;    // (dInner)
    const float* xProjT;   // (dInner, xRows)    x_proj.weight^T, rows regrouped [dt | pad | B | pad | C | pad]
    const float* dtW;      // (dInner, dtRank)
    const float* dtB;      // (dInner)
    const float* A;        // (dInner, nP)       -exp(A_log), 0 for padding states
    const float* D;        // (dInner)
    const float* outProjT; // (dInner, dMpad)    out_proj.weight^T
};

class DeviceModel {
public:
    // Uploads on `stream` and waits for the copy to land (a plain cudaMemcpy from pageable memory may
    // return before its DMA completes, and the kernels run on a non-blocking stream). Throws ModelError.
    DeviceModel(const Model& model, const Shape& shape, cudaStream_t stream);

    std::vector<DeviceLayer> layers;
    const float* embW = nullptr;  // (dModel, 1 + nCond)
    const float* embB = nullptr;  // (dModel)
    const float* headW = nullptr; // (dModel) head.weight * norm_f.weight
    float headBias = 0.0f, skip = 0.0f;

private:
    DeviceBuffer<float> storage_;
};

} // namespace mfx::cuda
