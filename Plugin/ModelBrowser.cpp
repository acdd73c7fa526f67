// Folder navigation and the recently used models (see ModelBrowser.h).
#include "ModelBrowser.h"

namespace mfx::plugin {

juce::File neighbourModel(const juce::File& current, int direction) {
    const juce::File folder = current.getParentDirectory();
    if (current.getFullPathName().isEmpty() || !folder.isDirectory()) return {};
    juce::Array<juce::File> files = folder.findChildFiles(juce::File::findFiles, false, kModelFilePattern);
    if (files.isEmpty()) return {};
    struct NaturalOrder {
        static int compareElements(const juce::File& a, const juce::File& b) {
            return a.getFileName().compareNatural(b.getFileName());
        }
    } order;
    files.sort(order);
    int index = files.indexOf(current);
    if (index < 0) { // the current model was deleted or renamed: step from where it would be
        index = 0;
        while (index < files.size() && order.compareElements(files[index], current) < 0) ++index;
        if (direction > 0) --index;
    }
    const int n = files.size();
    return files[((index + direction) % n + n) % n];
}

juce::PropertiesFile::Options RecentModels::options() const {
    juce::PropertiesFile::Options o;
    o.applicationName = "MambaFX";
#if JUCE_LINUX || JUCE_BSD
    o.folderName = ".config/MambaFX"; // JUCE puts Linux settings under ~/<folderName>
#else
    o.folderName = "MambaFX";
#endif
    o.filenameSuffix = ".settings";
    o.osxLibrarySubFolder = "Application Support";
    return o;
}

RecentModels::RecentModels() {
    list_.setMaxNumberOfItems(kMaxItems);
    juce::PropertiesFile props(options());
    list_.restoreFromString(props.getValue("recentModels"));
}

void RecentModels::add(const juce::File& file) {
    // Re-read first: another instance may have added files since.
    juce::PropertiesFile props(options());
    list_.restoreFromString(props.getValue("recentModels"));
    list_.addFile(file);
    props.setValue("recentModels", list_.toString());
    props.saveIfNeeded();
}

juce::StringArray RecentModels::paths() const {
    juce::StringArray result;
    for (int i = 0; i < list_.getNumFiles(); ++i)
        if (list_.getFile(i).existsAsFile()) result.add(list_.getFile(i).getFullPathName());
    return result;
}

void RecentModels::clear() {
    juce::PropertiesFile props(options());
    list_.clear();
    props.setValue("recentModels", list_.toString());
    props.saveIfNeeded();
}

} // namespace mfx::plugin
