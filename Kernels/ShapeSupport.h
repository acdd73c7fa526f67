#pragma once
// Which model shapes the CUDA kernels support, and the padded Shape they run with.
//
// Supported: dInner = expand * dModel <= 256, dState <= 64, dConv <= 8, nCond <= 16, any nLayers and
// dtRank, as long as one block's shared memory (see LayerParams.h, smemLayout) fits the device
// (227 KB on Hopper). Anything else: makeCudaBackend returns nullptr with the reason, and the caller
// renders on the CPU.
#include "LayerParams.h"
#include "Model/Config.h"

#include <string>

namespace mfx::cuda {

// Padded shape with the tile length chosen for the shape (64 steps, or 32 for large models), or the
// given tile (a multiple of 4; the caller checks the shared memory it needs).
Shape makeShape(const Config& config, int tile = 0);

// True if the kernels support `config` within `maxSmemBytes` of shared memory per block (0: Hopper's
// 227 KB); otherwise false and `whyNot` names the limit that was exceeded.
bool shapeSupported(const Config& config, std::string& whyNot, int maxSmemBytes = 0);

} // namespace mfx::cuda
