#pragma once
// Ctrl-C handling for long commands: while a ScopedInterruptHandler lives, SIGINT, SIGTERM, SIGHUP (a
// closed terminal or dropped SSH session) and SIGQUIT only set a flag; the work loop polls
// interruptRequested() between windows, cleans up (temp files) and throws Interrupted. The previous
// handlers come back when the scope ends.
#include <csignal>

namespace mfx::apps {

bool interruptRequested() noexcept;
void clearInterrupt() noexcept;
void throwIfInterrupted(); // throws Interrupted when the flag is set

class ScopedInterruptHandler {
public:
    ScopedInterruptHandler();
    ~ScopedInterruptHandler();
    ScopedInterruptHandler(const ScopedInterruptHandler&) = delete;
    ScopedInterruptHandler& operator=(const ScopedInterruptHandler&) = delete;

private:
    static constexpr int kSignals[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction old_[4] {};
};

} // namespace mfx::apps
