#pragma once
// The models next to the current one, for switching with n/p while playing, and building an engine
// for one of them off the audio thread.
#include <Engine/RealtimeEngine.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mfx::live {

class ModelFolder {
public:
    // Lists *.safetensors in the folder of `current` (sorted by name); `current` is always included.
    explicit ModelFolder(const std::filesystem::path& current);

    const std::vector<std::filesystem::path>& models() const noexcept { return models_; }
    std::size_t index() const noexcept { return index_; }
    const std::filesystem::path& current() const { return models_[index_]; }

    // The path `step` places away from the browsing position (wrapping around), passing over the
    // model playing when browsing from one that failed; does not move. Rescans the folder first, so
    // models copied in while playing show up.
    std::filesystem::path peek(int step);
    // Makes `path` the current one (after it loaded fine); browsing goes on from it.
    void select(const std::filesystem::path& path);
    // A model that failed to load: the current one stays, but browsing goes on from `path`, so the
    // next n/p passes it instead of trying it again (one broken or other-rate file does not block
    // the rest of the folder).
    void passOver(const std::filesystem::path& path) { cursor_ = std::filesystem::absolute(path); }

private:
    void scan();
    std::filesystem::path folder_;
    std::vector<std::filesystem::path> models_;
    std::size_t index_ = 0;
    std::filesystem::path cursor_; // where n/p browse from: the current model or the last one that failed
};

struct LoadedEngine {
    std::unique_ptr<RealtimeEngine> engine;
    std::string name;    // model name (metadata or file name)
    std::string summary; // config summary line
    std::filesystem::path path;
};

// Loads the model, checks it is made for `modelRate` (the rate the session runs models at; throws
// LiveError otherwise, see checkModelRate), builds an engine for `channels` and warms it up. Throws
// ModelError/LiveError. Not for the audio thread.
LoadedEngine loadEngine(const std::filesystem::path& path, double modelRate, int channels);
// The same for a model already loaded from `path`.
LoadedEngine buildEngine(const Model& model, const std::filesystem::path& path, double modelRate, int channels);

} // namespace mfx::live
