#pragma once
// The --size presets of `mambafx train`. Costs and ESRs on the amp-capture data are in docs/MODELS.md.
#include <Model/Config.h>

#include <optional>
#include <string>

namespace mfx::apps::train {

inline std::optional<Config> sizePreset(const std::string& name) {
    Config c;
    c.expand = 2;
    c.dConv = 4;
    if (name == "nano") { c.dModel = 8; c.nLayers = 1; c.dState = 8; }
    else if (name == "lite") { c.dModel = 12; c.nLayers = 2; c.dState = 8; }
    else if (name == "standard") { c.dModel = 16; c.nLayers = 2; c.dState = 16; }
    else if (name == "large") { c.dModel = 32; c.nLayers = 2; c.dState = 16; }
    else return std::nullopt;
    c.dtRank = Config::defaultDtRank(c.dModel);
    return c;
}

inline const char* kSizeNames = "nano, lite, standard, large";

} // namespace mfx::apps::train
