#pragma once
// The model sizes of `mambafx train --size` (and of the training benchmark). Narrow and deep: on the
// amp-capture data, depth is what lowers the error (docs/MODELS.md, "Sizes"), and dModel 8 (dInner
// 16, one AVX-512 vector) is the cheapest width per layer. Their real-time costs and ESRs are in
// docs/MODELS.md; all four have the engine's one-sample path for single rows (Kernels.cpp TrySamples).
#include "../Model/Config.h"

#include <optional>
#include <string>
#include <vector>

namespace mfx::train {

struct SizePreset {
    const char* name;
    int dModel, nLayers, dState;
};

inline const std::vector<SizePreset>& sizePresets() {
    static const std::vector<SizePreset> sizes = {
        {"nano", 8, 4, 4},      // the cheapest: small pedals, many instances
        {"lite", 8, 6, 4},
        {"standard", 8, 12, 4}, // the default model's size (10 layers until 2026-12-02)
        {"large", 8, 16, 8},    // offline rendering: above the real-time budget of issue 6
    };
    return sizes;
}

inline std::optional<Config> sizePreset(const std::string& name) {
    for (const auto& s : sizePresets())
        if (name == s.name) {
            Config c;
            c.dModel = s.dModel;
            c.nLayers = s.nLayers;
            c.dState = s.dState;
            c.expand = 2;
            c.dConv = 4;
            c.dtRank = Config::defaultDtRank(c.dModel);
            return c;
        }
    return std::nullopt;
}

inline constexpr const char* kSizeNames = "nano, lite, standard, large";

} // namespace mfx::train
