#pragma once
// The exported entry point of each .cu file. Each launches one kernel on `stream` and checks the launch.
#include "LayerParams.h"

#include <cuda_runtime.h>

namespace mfx::cuda {

// LocalScanKernel.cu: kernel A. Per chunk, from zero state: sum of dt and h at the chunk end.
void launchLocalScan(const LayerParams& p, cudaStream_t stream);

// CarryScanKernel.cu: kernel B. Scan of the chunk carries: h at each chunk start, final SSM state.
void launchCarryScan(const LayerParams& p, cudaStream_t stream);

// FinishKernel.cu: kernel C. Fused: finish each chunk from its true initial state, out_proj, residual,
// head. Materialize / FromY: the two halves of the baseline pipeline around launchBaselineScan.
void launchFinish(const LayerParams& p, FinishMode mode, cudaStream_t stream);

// BaselineScanKernel.cu: one warp per (stream, channel) walking time sequentially (the reference design).
void launchBaselineScan(const LayerParams& p, cudaStream_t stream);

// Dynamic shared memory a chunk kernel needs for this shape (bytes).
inline int smemBytes(const Shape& sh, bool finish) { return smemLayout(sh, finish).total * 4; }

} // namespace mfx::cuda
