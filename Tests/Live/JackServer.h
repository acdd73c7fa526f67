#pragma once
// Test helpers for the end-to-end runs: child processes and a private JACK server
// (`jackd -n NAME -d dummy -r RATE -p PERIOD`: needs no audio hardware; runs as root, or as a user
// allowed real-time scheduling). A unique server name keeps parallel test runs and anyone else's
// JACK server apart; children find it through JACK_DEFAULT_SERVER.
#include <filesystem>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mfx::live::test {

class ChildProcess {
public:
    ChildProcess() = default;
    // Starts argv[0] with stdout and stderr going to `log` (appended), stdin from /dev/null.
    ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log,
                 const std::map<std::string, std::string>& env = {});
    ~ChildProcess(); // SIGTERM, then SIGKILL after 5 s, if still running
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;

    bool running();
    // Waits up to timeoutSeconds; returns the exit code, 128 + signal, or -1 on timeout.
    int wait(double timeoutSeconds);
    void signal(int sig);
    int stop(); // SIGTERM and wait (SIGKILL after 5 s)
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int status_ = -1;
};

// Runs a command to completion; returns its exit code (or -1 on timeout, killing it).
int runCommand(const std::vector<std::string>& argv, const std::filesystem::path& log, double timeoutSeconds,
               const std::map<std::string, std::string>& env = {});

std::string readText(const std::filesystem::path& path);

class JackServer {
public:
    // Starts jackd with the dummy driver and waits until a client can connect. Throws std::runtime_error
    // with jackd's log when it does not come up.
    JackServer(const std::string& name, int rate, int period, const std::filesystem::path& log);
    ~JackServer();
    const std::string& name() const { return name_; }
    void stop() { jackd_.stop(); } // SIGTERM, as when a user quits the server

private:
    std::string name_;
    ChildProcess jackd_;
};

// The JACK server name of one test: fixed, not per process. JACK's shared registry has room for 8
// servers and reclaims the entry of a server that died uncleanly only when a server of the same
// name starts; names with a PID in them filled it over repeated runs on one machine ("Too many
// servers already active"). Two runs of the same test at the same time on one machine collide (the
// second one's server does not come up, and the test says so).
std::string testServerName(const std::string& test);

} // namespace mfx::live::test
