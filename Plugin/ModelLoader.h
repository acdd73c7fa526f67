#pragma once
// Loading models off the audio thread. A request (a file, or a model's bytes from a session or the
// embedded default) is read, parsed and validated by the core loader, and its RealtimeEngine is
// built and warmed up, all on the loader thread (or on the caller's thread for prepareModel()).
// The result goes to the processor, which hands the engine to the audio thread lock-free.
// The loader thread also runs the processor's housekeeping (retrying hand-overs, freeing retired
// engines) every few milliseconds, so neither depends on the host running a message loop.
#include "ModelInfo.h"

#include <Engine/RealtimeEngine.h>

#include <juce_core/juce_core.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace mfx::plugin {

enum class ModelOrigin { File, Default, Session };
const char* toString(ModelOrigin origin);
ModelOrigin modelOriginFromString(const juce::String& text);

// A loaded model as the rest of the plugin sees it. Immutable once made.
struct LoadedModel {
    std::shared_ptr<const Model> model;
    juce::MemoryBlock bytes; // the file's bytes, saved with the session
    juce::String path;       // where it was loaded from; empty for the embedded default
    ModelOrigin origin = ModelOrigin::File;
    ModelInfo info;
};

struct LoadRequest {
    juce::File file;         // read this file, unless `bytes` is given
    juce::MemoryBlock bytes;
    juce::String path;       // remembered with bytes (the session's original path)
    ModelOrigin origin = ModelOrigin::File;
    bool userLoad = false;   // chosen by the user: knobs go to the model's defaults, file goes to the recent list
    std::vector<float> knobs; // positions (0..1) the knobs will be at (a restored session's); empty: the model's defaults
    std::uint64_t sequence = 0;
};

struct PreparedModel {
    std::shared_ptr<const LoadedModel> loaded;
    std::unique_ptr<RealtimeEngine> engine; // built and warmed, 2 channels
};

inline constexpr int kEngineChannels = 2;

// The engine for `loaded` (2 channels): it starts from, and resets to, the model's rest state with its
// knobs at `knobs` (positions 0..1, one per knob; missing ones at the model's defaults), so loading or
// resetting a model gives its constant rest output under silence, not a settling burst; and it is
// warmed up. Throws ModelError. Not for the audio thread.
std::unique_ptr<RealtimeEngine> buildEngine(const LoadedModel& loaded, const std::vector<float>& knobs = {});

// Reads, parses, validates and prepares. Throws ModelError with the loader's message.
PreparedModel prepareModel(const LoadRequest& request);

class ModelLoader : private juce::Thread {
public:
    using Done = std::function<void(PreparedModel&&, const LoadRequest&)>;
    using Failed = std::function<void(const std::string& message, const LoadRequest&)>;
    using Housekeeping = std::function<void()>;

    ModelLoader(Done done, Failed failed, Housekeeping housekeeping);
    ~ModelLoader() override;

    // Any thread. Only the newest request waiting is kept (clicking "next" five times loads one model).
    void request(LoadRequest request);
    // A request is waiting or being prepared.
    bool busy() const noexcept { return busy_.load(); }

private:
    void run() override;

    Done done_;
    Failed failed_;
    Housekeeping housekeeping_;
    std::mutex mutex_;
    std::optional<LoadRequest> waiting_;
    std::atomic<bool> busy_{false};
};

} // namespace mfx::plugin
