#pragma once
// The mambafx top-level app and the loop that runs it. Each subcommand lives in its own file and
// registers itself with an add<Name>Command(CLI::App&) function (see Source/Apps/README.md).
#include <CLI/CLI.hpp>

#include <memory>

namespace mfx::apps {

// "mambafx" with --help, --version and exactly one required subcommand.
std::unique_ptr<CLI::App> makeMainApp();

// Parses argv and runs the chosen subcommand's callback. Maps errors to exit codes:
// --help/--version 0; CLI11 parse errors and UsageError 2 (message + hint on stderr);
// Failure and other exceptions 1; Interrupted 130; ExitRequest its code.
int runApp(CLI::App& app, int argc, const char* const* argv);

// Option checks. finiteRange: a number from lo to hi, refusing nan and inf (which CLI::Range lets
// through: its comparisons are false for nan). nonEmpty: a value that is not "" (an unset shell
// variable in `-m "$MODEL"` must not quietly mean "the default").
CLI::Validator finiteRange(double lo, double hi);
CLI::Validator nonEmpty();

// Prints "error: <message>" to stderr (the form every command uses).
void printError(const std::string& message);
void printNote(const std::string& message); // "note: <message>" to stderr

} // namespace mfx::apps
