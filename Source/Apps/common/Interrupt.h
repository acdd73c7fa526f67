#pragma once
// Ctrl-C handling for long commands: while a ScopedInterruptHandler lives, SIGINT and SIGTERM only set
// a flag; the work loop polls interruptRequested() between windows, cleans up (temp files) and
// throws Interrupted. The previous handlers come back when the scope ends.
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
    struct sigaction oldInt_ {};
    struct sigaction oldTerm_ {};
};

} // namespace mfx::apps
