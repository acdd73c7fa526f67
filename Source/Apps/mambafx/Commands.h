#pragma once
// One registration function per subcommand. Each adds its CLI::App subcommand with options, help text
// and a callback that does the work (throwing UsageError / Failure / ExitRequest, see Errors.h).
// To add a command: write <Name>Command.cpp with `void add<Name>Command(CLI::App&)`, declare it here,
// call it from main.cpp, and list the file in Source/Apps/CMakeLists.txt.
#include <CLI/CLI.hpp>

namespace mfx::apps {

void addInfoCommand(CLI::App& app);   // mambafx info MODEL
void addRenderCommand(CLI::App& app); // mambafx render [--model FILE] INPUT... (-o OUTPUT | --out-dir DIR)
void addBenchCommand(CLI::App& app);  // mambafx bench [--quick] [--model FILE]

} // namespace mfx::apps
