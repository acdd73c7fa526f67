#include "CrashReport.h"

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace mfx::apps {
namespace {

void say(const char* s) noexcept {
    const ssize_t ignored = ::write(STDERR_FILENO, s, std::strlen(s));
    static_cast<void>(ignored);
}

[[noreturn]] void onTerminate() noexcept {
    // one report: a second thread terminating meanwhile (or this one again, from inside the handler)
    // waits for the first report's abort()
    static std::atomic<bool> reporting{false};
    if (reporting.exchange(true))
        for (;;) ::pause();
    say("\nmambafx: internal error: the C++ runtime called std::terminate");
    if (const std::exception_ptr e = std::current_exception()) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            say(" after an uncaught exception: ");
            say(x.what());
        } catch (...) {
            say(" after an uncaught exception of an unknown type");
        }
    } else {
        // e.g. a joinable std::thread destroyed, or a thread cancelled inside noexcept code
        say(" without an active exception");
    }
    char line[96];
    std::snprintf(line, sizeof line, "\nthread %ld (as gdb and core dumps number it), backtrace:\n", static_cast<long>(::gettid()));
    say(line);
    void* frames[64];
    const int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    say("This is a bug in MambaFX: please report it with the command line and the lines above.\n");
    std::abort();
}

} // namespace

void installTerminateHandler() noexcept {
    void* warm[1];
    static_cast<void>(backtrace(warm, 1)); // loads the unwinder now, not inside the handler
    std::set_terminate(&onTerminate);
}

} // namespace mfx::apps
