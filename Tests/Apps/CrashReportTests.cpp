// The apps' std::terminate handler (Source/Apps/common/CrashReport.h), in forked children: it names
// the exception (if any) and prints a backtrace and what to do, then aborts as before.
#include <common/CrashReport.h>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>

using Catch::Matchers::Contains;

namespace {

struct Died {
    int signal = 0;
    std::string err;
};

// Runs `body` in a child with the handler installed; returns the child's fatal signal and stderr.
template <class F>
Died inChild(F body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[0]);
        for (int sig : {SIGABRT, SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGTERM}) ::signal(sig, SIG_DFL); // not Catch2's
        ::alarm(20); // a hung child ends, and the test fails on its signal
        mfx::apps::installTerminateHandler();
        body();
        ::_exit(0);
    }
    ::close(fds[1]);
    Died d;
    char buf[4096];
    ssize_t got;
    while ((got = ::read(fds[0], buf, sizeof buf)) > 0) d.err.append(buf, static_cast<std::size_t>(got));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) d.signal = WTERMSIG(status);
    return d;
}

void thrower() { throw std::runtime_error("a test exception"); }
void (*volatile throwing)() = &thrower; // called through a pointer: the compiler cannot see the throw
void throwFromNoexcept() noexcept { throwing(); }

} // namespace

TEST_CASE("the apps' terminate handler names the cause, prints a backtrace and aborts", "[apps]") {
    SECTION("an exception escaping a noexcept function") {
        const Died d = inChild([] { throwFromNoexcept(); });
        INFO(d.err);
        CHECK(d.signal == SIGABRT);
        CHECK_THAT(d.err, Contains("internal error: the C++ runtime called std::terminate after an uncaught exception: a test exception"));
        CHECK_THAT(d.err, Contains("backtrace:") && Contains("[0x")); // frames with their addresses
        CHECK_THAT(d.err, Contains("please report it"));
    }
    SECTION("a joinable std::thread destroyed (no active exception)") {
        const Died d = inChild([] {
            std::thread t([] { ::pause(); });
            // t's destructor runs while it is joinable
        });
        INFO(d.err);
        CHECK(d.signal == SIGABRT);
        CHECK_THAT(d.err, Contains("std::terminate without an active exception"));
        CHECK_THAT(d.err, Contains("thread ") && Contains("[0x"));
    }
}
