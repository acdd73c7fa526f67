// Model display info and the conditioning metadata (see ModelInfo.h).
#include "ModelInfo.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <sstream>

namespace mfx::plugin {

float CondSpec::toNormalised(float value) const noexcept {
    if (!(max > min)) return 0.0f;
    const float t = (value - min) / (max - min);
    return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
}

float CondSpec::fromNormalised(float normalised) const noexcept { return min + normalised * (max - min); }

namespace {

bool finiteNumber(const nlohmann::json& j) { return j.is_number() && std::isfinite(j.get<double>()); }

// A knob bound: a number a float can hold (get<float>() on 1e300 would be undefined behaviour).
bool floatBound(const nlohmann::json& j) {
    return finiteNumber(j) && std::fabs(j.get<double>()) <= static_cast<double>(std::numeric_limits<float>::max());
}

CondSpec fallback(int index) { return CondSpec{"Control " + std::to_string(index + 1), 0.0f, 1.0f, 0.0f}; }

} // namespace

std::vector<CondSpec> parseConditioning(const Model& model, std::string& warning) {
    const int n = model.config.nCond;
    std::vector<CondSpec> specs;
    for (int i = 0; i < n; ++i) specs.push_back(fallback(i));
    if (n == 0) return specs;

    const auto it = model.metadata.find(meta::conditioning);
    if (it == model.metadata.end()) {
        warning = "the model has " + std::to_string(n) + " conditioning inputs but no \"conditioning\" metadata; "
                  "the knobs are named Control 1.. and range 0..1";
        return specs;
    }
    const nlohmann::json array = nlohmann::json::parse(it->second, nullptr, false);
    if (!array.is_array()) {
        warning = "the \"conditioning\" metadata is not a JSON array; the knobs range 0..1";
        return specs;
    }
    if (static_cast<int>(array.size()) != n)
        warning = "the \"conditioning\" metadata lists " + std::to_string(array.size()) + " entries for " +
                  std::to_string(n) + " conditioning inputs";
    for (int i = 0; i < n && i < static_cast<int>(array.size()); ++i) {
        const auto& e = array[static_cast<size_t>(i)];
        if (!e.is_object()) {
            warning = "conditioning entry " + std::to_string(i + 1) + " is not a JSON object";
            continue;
        }
        CondSpec s = specs[static_cast<size_t>(i)];
        if (e.contains("name") && e["name"].is_string() && !e["name"].get<std::string>().empty())
            s.name = e["name"].get<std::string>();
        // The knobs are informational: a bound a float cannot hold is dropped with a warning (like a
        // missing one), and the default, clamped to the range anyway, is clamped as a double first.
        for (const auto& [key, bound] : {std::pair<const char*, float*>{"min", &s.min}, {"max", &s.max}}) {
            if (!e.contains(key) || !finiteNumber(e[key])) continue;
            if (floatBound(e[key]))
                *bound = static_cast<float>(e[key].get<double>());
            else
                warning = "conditioning entry " + std::to_string(i + 1) + " has " + key + " " + e[key].dump() +
                          ", beyond the float range; ignored";
        }
        if (!(s.max > s.min)) {
            warning = "conditioning entry " + std::to_string(i + 1) + " has max <= min; using 0..1";
            s.min = 0.0f;
            s.max = 1.0f;
        } else if (!std::isfinite(s.max - s.min)) {
            warning = "conditioning entry " + std::to_string(i + 1) + " has a range too wide for a float; using 0..1";
            s.min = 0.0f;
            s.max = 1.0f;
        }
        s.def = s.min;
        if (e.contains("default") && finiteNumber(e["default"]))
            s.def = static_cast<float>(std::fmin(std::fmax(e["default"].get<double>(), static_cast<double>(s.min)),
                                                 static_cast<double>(s.max)));
        specs[static_cast<size_t>(i)] = s;
    }
    return specs;
}

ModelInfo ModelInfo::fromModel(const Model& model) {
    ModelInfo info;
    info.name = model.name();
    info.sampleRate = model.config.sampleRate;
    info.parameters = model.config.parameterCount();
    info.configSummary = model.config.summary();
    for (const auto& [key, value] : model.metadata)
        if (key != meta::config) info.metadata.emplace_back(key, value);
    info.conditioning = parseConditioning(model, info.warning);
    return info;
}

std::string ModelInfo::describe() const {
    std::ostringstream s;
    s << configSummary << "\n";
    for (const auto& [key, value] : metadata) s << key << ": " << value << "\n";
    if (!warning.empty()) s << "note: " << warning << "\n";
    return s.str();
}

} // namespace mfx::plugin
