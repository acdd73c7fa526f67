// Model, conditioning and backends for `mambafx render` (see RenderSetup.h).
#include "RenderSetup.h"

#include "CommandLine.h"
#include "DefaultModel.h"
#include "Errors.h"

#include <Model/ModelError.h>
#include <Model/ModelFile.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace mfx::apps {

Model loadRenderModel(const std::string& path) {
    std::string file = path;
    if (file.empty()) {
        const auto candidates = defaultModelCandidates();
        const auto found = findDefaultModel(candidates);
        if (!found) {
            std::string looked;
            for (const auto& c : candidates) looked += "\n  " + c.string();
            throw UsageError("no model given and no bundled default model found (looked in:" + looked +
                             ")\npass one with --model FILE.safetensors");
        }
        file = found->string();
    }
    try {
        return loadModel(file);
    } catch (const ModelError& e) {
        throw Failure(std::string("cannot use the model: ") + e.what());
    }
}

std::vector<float> resolveConditioning(const Model& model, const std::vector<std::string>& given) {
    const int nCond = model.config.nCond;
    if (nCond == 0) {
        if (!given.empty()) throw UsageError("--cond: this model has no conditioning inputs");
        return {};
    }
    struct Knob {
        std::string name;
        double min = -1e30, max = 1e30, value = 0.0;
    };
    std::vector<Knob> knobs(static_cast<std::size_t>(nCond));
    for (int i = 0; i < nCond; ++i) knobs[static_cast<std::size_t>(i)].name = std::to_string(i);
    if (auto it = model.metadata.find(meta::conditioning); it != model.metadata.end()) {
        try {
            const auto j = nlohmann::json::parse(it->second);
            for (std::size_t i = 0; i < j.size() && i < knobs.size(); ++i) {
                knobs[i].name = j[i].value("name", knobs[i].name);
                knobs[i].min = j[i].value("min", knobs[i].min);
                knobs[i].max = j[i].value("max", knobs[i].max);
                knobs[i].value = j[i].value("default", 0.0);
            }
        } catch (const std::exception&) {
            printNote("the model's conditioning metadata is not readable; conditioning defaults to 0");
        }
    }
    for (const auto& text : given) {
        const auto eq = text.find('=');
        if (eq == std::string::npos) throw UsageError("--cond wants NAME=VALUE, got '" + text + "'");
        const std::string name = text.substr(0, eq);
        Knob* knob = nullptr;
        for (auto& k : knobs)
            if (k.name == name) knob = &k;
        if (!knob && name.find_first_not_of("0123456789") == std::string::npos && !name.empty() && name.size() < 9 &&
            std::stoul(name) < knobs.size())
            knob = &knobs[std::stoul(name)];
        if (!knob) {
            std::string names;
            for (const auto& k : knobs) names += (names.empty() ? "" : ", ") + k.name;
            throw UsageError("--cond: the model has no input named '" + name + "' (it has: " + names + ")");
        }
        char* end = nullptr;
        const double v = std::strtod(text.c_str() + eq + 1, &end);
        if (end == text.c_str() + eq + 1 || *end != '\0' || !std::isfinite(v))
            throw UsageError("--cond " + name + ": '" + text.substr(eq + 1) + "' is not a number");
        if (v < knob->min || v > knob->max) {
            char range[96];
            std::snprintf(range, sizeof range, "[%g, %g]", knob->min, knob->max);
            throw UsageError("--cond " + name + "=" + text.substr(eq + 1) + " is outside the model's range " + range);
        }
        knob->value = v;
    }
    std::vector<float> values;
    for (const auto& k : knobs) values.push_back(static_cast<float>(k.value));
    return values;
}

BackendChoice chooseBackends(const std::string& device, const std::optional<DeviceList>& devices, const Config& config,
                             const OfflineOptions& cpuOptions) {
    BackendChoice choice;
    try {
        if (!devices) {
            std::string notice;
            auto backend = makeBackend(device, config, cpuOptions, notice);
            if (!backend) throw Failure("no backend available for --device " + device);
            if (!notice.empty()) choice.notes.push_back(notice);
            choice.backends.push_back(std::move(backend));
            return choice;
        }
        const int available = cudaDeviceCount();
        if (available == 0) {
            std::string whyNot; // asked only for the reason (a build without CUDA, no driver, ...)
            if (makeCudaBackend(0, config, whyNot) != nullptr || whyNot.empty()) whyNot = "no CUDA device found";
            choice.notes.push_back("--devices: no GPU to render on, rendering on the CPU instead. Why: " + whyNot);
        } else {
            for (const int index : resolveDevices(*devices, available)) {
                std::string whyNot;
                if (auto gpu = makeCudaBackend(index, config, whyNot))
                    choice.backends.push_back(std::move(gpu));
                else
                    choice.notes.push_back("--devices: cuda:" + std::to_string(index) + " is not usable: " + whyNot);
            }
            if (choice.backends.empty()) choice.notes.push_back("--devices: none of the GPUs is usable; rendering on the CPU instead");
        }
        if (choice.backends.empty()) choice.backends.push_back(makeCpuBackend(cpuOptions));
    } catch (const ModelError& e) {
        throw Failure("cannot start the " + (devices ? std::string("--devices") : device) + " backend: " + e.what());
    }
    return choice;
}

} // namespace mfx::apps
