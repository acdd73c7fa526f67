#pragma once
// How the Standalone quits on SIGINT and SIGTERM: as when its window is closed, saving the plugin
// state (model, knobs) and the audio settings to ~/.config/MambaFX.settings.
//
// JUCE's own SIGINT handling calls JUCEApplicationBase::quit(), which saves the audio settings but
// not the plugin state, and SIGTERM (what `kill`, session managers and a desktop logout send) ends
// the process on the spot, saving nothing. Here both signals set a flag (the handler does nothing
// else: async-signal-safe); a message-thread timer sees it and asks the application to quit the way
// the window's close button does (systemRequestedQuit: save the plugin state, then quit). A second
// signal while that quit is under way ends the process as the signal would without this handler.
// Created by the processor only when the process is the Standalone, never in a host's process.
#include <juce_events/juce_events.h>

namespace mfx::plugin {

class StandaloneQuit : private juce::Timer {
public:
    StandaloneQuit(); // installs the handlers (once per process) and starts polling
    ~StandaloneQuit() override;

private:
    void timerCallback() override;
    bool asked_ = false;
};

} // namespace mfx::plugin
