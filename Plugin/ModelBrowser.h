#pragma once
// Finding models for the editor: the previous/next model file in the current model's folder, and the
// recently used list (shared by all MambaFX instances, kept in ~/.config/MambaFX/MambaFX.settings on
// Linux). Message thread only.
#include <juce_data_structures/juce_data_structures.h>
#include <juce_gui_extra/juce_gui_extra.h>

namespace mfx::plugin {

inline constexpr const char* kModelFilePattern = "*.safetensors";

// The model file `direction` steps (+1 next, -1 previous) from `current` in its folder, in natural
// name order, wrapping around. Returns `current` itself if it is the only one, or an empty File if
// `current` is not a file in a folder.
juce::File neighbourModel(const juce::File& current, int direction);

class RecentModels {
public:
    static constexpr int kMaxItems = 10;

    RecentModels();
    void add(const juce::File& file);
    juce::StringArray paths() const; // newest first, only files that still exist
    void clear();

private:
    juce::PropertiesFile::Options options() const;
    juce::RecentlyOpenedFilesList list_;
};

} // namespace mfx::plugin
