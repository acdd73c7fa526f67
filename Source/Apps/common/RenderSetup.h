#pragma once
// What `mambafx render` needs before the first file: the model (or the bundled default), the
// conditioning values, and the backends to render on (`--device` or `--devices`, with the CPU
// fallback and its message).
#include "RenderSelect.h"

#include <Backend/Backend.h>
#include <Model/Weights.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mfx::apps {

// `path` empty: the bundled default model (UsageError if there is none). Failure if unusable.
Model loadRenderModel(const std::string& path);

// --cond NAME=VALUE (or INDEX=VALUE) over the defaults from the model's "conditioning" metadata.
// UsageError for unknown names, non-numbers and values outside the metadata's range.
std::vector<float> resolveConditioning(const Model& model, const std::vector<std::string>& given);

struct BackendChoice {
    std::vector<std::unique_ptr<RenderBackend>> backends; // one per worker, at least one
    std::vector<std::string> notes;                       // fallbacks and unusable GPUs, for the user
};

// `devices` set (--devices): one CUDA backend per listed GPU; GPUs that cannot be used are left out
// with a note, and with none usable (or no GPU at all) a single CPU backend renders, with a note.
// Otherwise one backend for `device` (auto | cpu | cuda | cuda:N, see makeBackend()).
// UsageError for a GPU index the machine does not have; Failure if a backend cannot start.
BackendChoice chooseBackends(const std::string& device, const std::optional<DeviceList>& devices, const Config& config,
                             const OfflineOptions& cpuOptions);

} // namespace mfx::apps
