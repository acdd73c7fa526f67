#pragma once
// Model parameters in the reference layout (row-major, exactly as in the safetensors file).
// The engine never reads these directly in its hot loop: it prepares padded/transposed copies.
#include "Config.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mfx {

struct LayerWeights {
    std::vector<float> inProj;       // (2*dInner, dModel)        layers.i.mixer.in_proj.weight
    std::vector<float> convWeight;   // (dInner, 1, dConv)         layers.i.mixer.conv1d.weight
    std::vector<float> convBias;     // (dInner)                   layers.i.mixer.conv1d.bias
    std::vector<float> xProj;        // (dtRank + 2*dState, dInner) layers.i.mixer.x_proj.weight
    std::vector<float> dtProjWeight; // (dInner, dtRank)           layers.i.mixer.dt_proj.weight
    std::vector<float> dtProjBias;   // (dInner)                   layers.i.mixer.dt_proj.bias
    std::vector<float> ALog;         // (dInner, dState)           layers.i.mixer.A_log  (A = -exp(A_log))
    std::vector<float> D;            // (dInner)                   layers.i.mixer.D
    std::vector<float> outProj;      // (dModel, dInner)           layers.i.mixer.out_proj.weight
    std::vector<float> norm;         // (dModel)                   layers.i.norm.weight
};

struct Weights {
    std::vector<float> embeddingWeight; // (dModel, 1 + nCond)
    std::vector<float> embeddingBias;   // (dModel)
    std::vector<LayerWeights> layers;   // nLayers
    std::vector<float> normF;           // (dModel)
    std::vector<float> headWeight;      // (1, dModel)
    std::vector<float> headBias;        // (1)
    std::vector<float> skip;            // (1)

    // All tensors sized for `config` and zero-filled.
    static Weights zeros(const Config& config);
};

// The single table of tensor names and shapes. Loader, writer, trainer and tests all walk it,
// so a name or shape is written down exactly once.
struct TensorRef {
    std::string name;
    std::vector<int> shape;
    std::vector<float>* data;
};
std::vector<TensorRef> tensorTable(const Config& config, Weights& weights);
std::vector<TensorRef> tensorTable(const Config& config, const Weights& weights); // data is const-cast; do not write

using Metadata = std::map<std::string, std::string>;

// Well-known metadata keys (all optional except "config").
namespace meta {
inline constexpr const char* config = "config";
inline constexpr const char* name = "name";
inline constexpr const char* description = "description";
inline constexpr const char* author = "author";
inline constexpr const char* license = "license";
inline constexpr const char* date = "date";
inline constexpr const char* trainEsr = "train_esr";
inline constexpr const char* validationEsr = "validation_esr";          // from the zero state (the Capture issue's definition)
inline constexpr const char* validationEsrRest = "validation_esr_rest"; // from the rest state (engineRestState), where the products start
inline constexpr const char* inputLevelDbu = "input_level_dbu";   // calibration: 0 dBFS input = this dBu
inline constexpr const char* outputLevelDbu = "output_level_dbu";
inline constexpr const char* conditioning = "conditioning"; // JSON array [{"name":..,"min":..,"max":..,"default":..}]
} // namespace meta

struct Model {
    Config config;
    Weights weights;
    Metadata metadata;

    // Throws ModelError if any tensor has the wrong size or a non-finite value.
    void validate() const;
    std::string name() const; // metadata name, or "unnamed model"
};

} // namespace mfx
