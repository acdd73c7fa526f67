#include "ModelFolder.h"

#include "DeviceChoice.h"

#include <Engine/RestState.h>
#include <Model/ModelError.h>
#include <Model/ModelFile.h>

#include <algorithm>

namespace mfx::live {

namespace fs = std::filesystem;

ModelFolder::ModelFolder(const fs::path& current) : folder_(fs::absolute(current).parent_path()) {
    scan();
    select(current);
}

void ModelFolder::scan() {
    const fs::path keep = models_.empty() ? fs::path() : models_[index_];
    models_.clear();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder_, ec)) {
        std::error_code e2;
        if (entry.is_regular_file(e2) && entry.path().extension() == ".safetensors")
            models_.push_back(fs::absolute(entry.path()));
    }
    if (!keep.empty() && std::find(models_.begin(), models_.end(), keep) == models_.end()) models_.push_back(keep);
    std::sort(models_.begin(), models_.end());
    index_ = 0;
    if (!keep.empty()) index_ = static_cast<std::size_t>(std::find(models_.begin(), models_.end(), keep) - models_.begin());
}

fs::path ModelFolder::peek(int step) {
    scan();
    const auto n = static_cast<long>(models_.size());
    const auto at = std::find(models_.begin(), models_.end(), cursor_);
    const long from = at != models_.end() ? static_cast<long>(at - models_.begin()) : static_cast<long>(index_);
    auto wrap = [n](long i) { return ((i % n) + n) % n; };
    long i = wrap(from + step);
    // From a model that failed, a step can land on the one playing: go on past it too (reloading what
    // plays is not what n/p are for), unless it is the only other choice.
    if (static_cast<std::size_t>(i) == index_ && from != static_cast<long>(index_) && n > 2) i = wrap(i + (step > 0 ? 1 : -1));
    return models_[static_cast<std::size_t>(i)];
}

void ModelFolder::select(const fs::path& path) {
    const fs::path p = fs::absolute(path);
    auto it = std::find(models_.begin(), models_.end(), p);
    if (it == models_.end()) {
        models_.push_back(p);
        std::sort(models_.begin(), models_.end());
        it = std::find(models_.begin(), models_.end(), p);
    }
    index_ = static_cast<std::size_t>(it - models_.begin());
    cursor_ = p;
}

LoadedEngine loadEngine(const fs::path& path, double modelRate, int channels) {
    return buildEngine(loadModel(path.string()), path, modelRate, channels);
}

LoadedEngine buildEngine(const Model& model, const fs::path& path, double modelRate, int channels) {
    LoadedEngine out;
    out.path = path;
    out.name = model.metadata.count(meta::name) ? model.name() : path.stem().string();
    out.summary = model.config.summary();
    checkModelRate(out.name, model.config.sampleRate, modelRate);
    out.engine = std::make_unique<RealtimeEngine>(model, channels);
    try { // no start-up burst: its constant rest output from the first sample (no conditioning: 0)
        out.engine->setInitialState(engineRestState(model));
    } catch (const ModelError& e) {
        throw ModelError(path.filename().string() + ": " + e.what() + "; the model is unusable, retrain or re-export it");
    }
    out.engine->warmUp(); // touches every buffer, then resets to that state
    return out;
}

} // namespace mfx::live
