// The Standalone's quit on SIGINT / SIGTERM (see StandaloneQuit.h).
#include "StandaloneQuit.h"

#include <csignal>

namespace mfx::plugin {

namespace {
volatile std::sig_atomic_t quitRequested = 0;

extern "C" void mfxRequestQuit(int) { quitRequested = 1; }

void installHandlers() {
    static bool installed = false; // message thread only
    if (installed) return;
    installed = true;
    struct sigaction sa {};
    sa.sa_handler = mfxRequestQuit;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr); // replaces JUCE's, which quits without saving the plugin state
    sigaction(SIGTERM, &sa, nullptr);
}
} // namespace

StandaloneQuit::StandaloneQuit() {
    installHandlers();
    startTimer(100);
}

StandaloneQuit::~StandaloneQuit() { stopTimer(); }

void StandaloneQuit::timerCallback() {
    if (quitRequested == 0) return;
    quitRequested = 0;
    if (auto* app = juce::JUCEApplicationBase::getInstance()) app->systemRequestedQuit();
}

} // namespace mfx::plugin
