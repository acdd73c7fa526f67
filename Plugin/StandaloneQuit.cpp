// The Standalone's quit on SIGINT / SIGTERM (see StandaloneQuit.h).
#include "StandaloneQuit.h"

#include <atomic>
#include <csignal>

namespace mfx::plugin {

namespace {
// Set by the handler (any thread the signal lands on), read by the message thread's timer.
std::atomic<int> quitRequested{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

// The first signal asks for a quit; a second one while that quit is under way (stuck, say, in a
// device's shutdown) takes the signal's default action, as without this handler.
extern "C" void mfxRequestQuit(int sig) {
    if (quitRequested.exchange(1) != 0) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
}

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
    // once: the application retries by itself while modal windows close (StandaloneFilterApp)
    if (asked_ || quitRequested.load() == 0) return;
    asked_ = true;
    if (auto* app = juce::JUCEApplicationBase::getInstance()) app->systemRequestedQuit();
}

} // namespace mfx::plugin
