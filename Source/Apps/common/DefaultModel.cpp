// Locating the bundled default model.
#include "DefaultModel.h"

namespace mfx::apps {

namespace fs = std::filesystem;

std::vector<fs::path> defaultModelCandidates(const fs::path& executableDir, const fs::path& sourceDir) {
    std::vector<fs::path> candidates;
    if (!executableDir.empty())
        candidates.push_back((executableDir / ".." / "share" / "mambafx" / "models" / kDefaultModelFile).lexically_normal());
    if (!sourceDir.empty())
        candidates.push_back((sourceDir / "Resources" / "Models" / kDefaultModelFile).lexically_normal());
    return candidates;
}

std::optional<fs::path> findDefaultModel(const std::vector<fs::path>& candidates) {
    for (const auto& path : candidates) {
        std::error_code ec;
        if (fs::is_regular_file(path, ec)) return path;
    }
    return std::nullopt;
}

std::vector<fs::path> defaultModelCandidates() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
#ifdef MFX_SOURCE_DIR
    const fs::path sourceDir = MFX_SOURCE_DIR;
#else
    const fs::path sourceDir;
#endif
    return defaultModelCandidates(ec ? fs::path() : exe.parent_path(), sourceDir);
}

} // namespace mfx::apps
