// SIGINT/SIGTERM/SIGHUP/SIGQUIT -> a flag (async-signal-safe: one lock-free atomic store).
#include "Interrupt.h"

#include "Errors.h"

#include <atomic>

namespace mfx::apps {

namespace {

std::atomic<bool> gInterrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void onInterrupt(int) { gInterrupted.store(true, std::memory_order_relaxed); }

} // namespace

bool interruptRequested() noexcept { return gInterrupted.load(std::memory_order_relaxed); }
void clearInterrupt() noexcept { gInterrupted.store(false, std::memory_order_relaxed); }

void throwIfInterrupted() {
    if (interruptRequested()) throw Interrupted();
}

ScopedInterruptHandler::ScopedInterruptHandler() {
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART; // file I/O carries on; the work loop sees the flag after its window
    for (int i = 0; i < 4; ++i) sigaction(kSignals[i], &action, &old_[i]);
}

ScopedInterruptHandler::~ScopedInterruptHandler() {
    for (int i = 0; i < 4; ++i) sigaction(kSignals[i], &old_[i], nullptr);
}

} // namespace mfx::apps
