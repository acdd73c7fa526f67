#pragma once
// What the plugin shows and needs about a loaded model, built off the audio thread: display strings
// and the conditioning knobs declared in the model's metadata ("conditioning", a JSON array of
// {"name", "min", "max", "default"}).
#include <Model/Weights.h>

#include <string>
#include <utility>
#include <vector>

namespace mfx::plugin {

struct CondSpec {
    std::string name;
    float min = 0.0f, max = 1.0f, def = 0.0f;

    float toNormalised(float value) const noexcept;
    float fromNormalised(float normalised) const noexcept;
};

// Exactly model.config.nCond specs. Entries that are missing or malformed fall back to
// "Control N", 0..1, default 0, and `warning` names what was wrong (the model still loads).
std::vector<CondSpec> parseConditioning(const Model& model, std::string& warning);

struct ModelInfo {
    std::string name;          // metadata name or "unnamed model"
    double sampleRate = 0.0;
    long long parameters = 0;
    std::string configSummary; // Config::summary()
    std::vector<std::pair<std::string, std::string>> metadata; // everything but "config", for display
    std::vector<CondSpec> conditioning;
    std::string warning;       // non-fatal problems with the metadata

    static ModelInfo fromModel(const Model& model);
    std::string describe() const; // multi-line text for the editor
};

} // namespace mfx::plugin
