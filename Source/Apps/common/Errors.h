#pragma once
// Exit codes and the errors the mambafx commands throw. runApp() (CommandLine.h) maps them to exit
// codes and prints "error: <message>" on stderr, so commands just throw.
#include <stdexcept>
#include <string>

namespace mfx::apps {

enum ExitCode : int {
    kExitOk = 0,           // everything done
    kExitFailure = 1,      // an input, model or processing problem
    kExitUsage = 2,        // the command line asks for something impossible
    kExitInterrupted = 130 // stopped by Ctrl-C (128 + SIGINT), partial output removed
};

// The command line is wrong (exit 2): say what is wrong and what to write instead.
struct UsageError : std::runtime_error {
    explicit UsageError(const std::string& what) : std::runtime_error(what) {}
};

// An input, model or processing problem (exit 1): name the file and the reason.
struct Failure : std::runtime_error {
    explicit Failure(const std::string& what) : std::runtime_error(what) {}
};

// Ctrl-C (or SIGTERM) arrived while working.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

// Leave with `code`; whatever needed saying has been printed already.
struct ExitRequest {
    int code;
};

} // namespace mfx::apps
