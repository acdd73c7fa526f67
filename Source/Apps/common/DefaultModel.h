#pragma once
// Where `mambafx render` looks for the bundled default model when no --model is given:
//   1. <directory of the executable>/../share/mambafx/models/default.safetensors  (installed layout)
//   2. <source tree>/Resources/Models/default.safetensors                         (build tree; path
//      compiled in as MFX_SOURCE_DIR)
#include <filesystem>
#include <optional>
#include <vector>

namespace mfx::apps {

inline constexpr const char* kDefaultModelFile = "default.safetensors";

std::vector<std::filesystem::path> defaultModelCandidates(const std::filesystem::path& executableDir,
                                                          const std::filesystem::path& sourceDir);
// The first candidate that is a regular file.
std::optional<std::filesystem::path> findDefaultModel(const std::vector<std::filesystem::path>& candidates);

// The candidates for this executable (from /proc/self/exe) and this build's source tree.
std::vector<std::filesystem::path> defaultModelCandidates();

} // namespace mfx::apps
