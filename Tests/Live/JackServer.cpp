#include "JackServer.h"

#include <jack/jack.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace mfx::live::test {

namespace {

std::vector<std::string> environmentWith(const std::map<std::string, std::string>& env) {
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        const std::string key = kv.substr(0, kv.find('='));
        if (!env.count(key)) out.push_back(kv);
    }
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

} // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log,
                           const std::map<std::string, std::string>& env) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::vector<std::string> envStrings = environmentWith(env);
    std::vector<char*> envp;
    for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0]);
    }
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0) stop();
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept : pid_(o.pid_), status_(o.status_) { o.pid_ = -1; }

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
        if (pid_ > 0) stop();
        pid_ = o.pid_;
        status_ = o.status_;
        o.pid_ = -1;
    }
    return *this;
}

bool ChildProcess::running() {
    if (pid_ <= 0) return false;
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        pid_ = -1;
        return false;
    }
    return true;
}

int ChildProcess::wait(double timeoutSeconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds);
    while (running()) {
        if (std::chrono::steady_clock::now() > end) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

void ChildProcess::signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
}

int ChildProcess::stop() {
    if (!running()) return status_;
    signal(SIGTERM);
    int code = wait(5.0);
    if (code == -1) {
        signal(SIGKILL);
        code = wait(5.0);
    }
    return code;
}

int runCommand(const std::vector<std::string>& argv, const std::filesystem::path& log, double timeoutSeconds,
               const std::map<std::string, std::string>& env) {
    ChildProcess p(argv, log, env);
    const int code = p.wait(timeoutSeconds);
    if (code == -1) p.stop();
    return code;
}

std::string readText(const std::filesystem::path& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

JackServer::JackServer(const std::string& name, int rate, int period, const std::filesystem::path& log) : name_(name) {
    jack_set_error_function([](const char*) {}); // "cannot connect" while jackd starts up is expected
    jackd_ = ChildProcess({"jackd", "-n", name, "-d", "dummy", "-r", std::to_string(rate), "-p", std::to_string(period)}, log);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < end) {
        if (!jackd_.running()) break;
        jack_status_t status{};
        jack_client_t* c = jack_client_open("mfx_live_test_probe",
                                            static_cast<jack_options_t>(JackNoStartServer | JackServerName), &status,
                                            name.c_str());
        if (c) {
            jack_client_close(c);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    jackd_.stop();
    throw std::runtime_error("jackd -n " + name + " -d dummy did not come up; its log:\n" + readText(log));
}

JackServer::~JackServer() { jackd_.stop(); }

std::string testServerName(const std::string& test) { return "mfx-test-" + test; }

} // namespace mfx::live::test
