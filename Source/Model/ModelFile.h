#pragma once
// Reading and writing models as safetensors files:
//   [u64 little-endian header length N][N bytes JSON header][tensor bytes]
// Header: {"__metadata__": {string: string}, "<tensor>": {"dtype":"F32","shape":[..],"data_offsets":[b,e]}}
// The loader validates strictly (see docs/MODEL_FORMAT.md) and throws ModelError naming the problem.
// After parsing, Model::metadata does not hold "config" (it lives in Model::config); serializeModel
// always writes "config" from model.config.toJson().
#include "Weights.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mfx {

inline constexpr std::uint64_t kMaxHeaderBytes = 16u << 20; // 16 MiB of JSON is far beyond any real model
inline constexpr std::uint64_t kMaxModelFileBytes = 2ull << 30;

Model parseModel(std::span<const std::uint8_t> bytes, const std::string& sourceName = "model");
Model loadModel(const std::string& path);

std::vector<std::uint8_t> serializeModel(const Model& model);
// Writes to "<path>.tmp-XXXX" then renames; throws ModelError on I/O failure.
void saveModel(const Model& model, const std::string& path);

} // namespace mfx
