// The mambafx top-level app: version string, error-to-exit-code mapping.
#include "CommandLine.h"

#include "CrashReport.h"

#include "Errors.h"

#include <Backend/Backend.h>

#include <cmath>
#include <iostream>
#include <sstream>
#include <string>

namespace mfx::apps {

namespace {

std::string versionString() {
    std::string v = "mambafx " MFX_VERSION "\n";
    const int devices = cudaDeviceCount();
    v += devices > 0 ? "CUDA backend: " + std::to_string(devices) + " device(s)" : std::string("CUDA backend: not available");
    return v;
}

} // namespace

std::unique_ptr<CLI::App> makeMainApp() {
    auto app = std::make_unique<CLI::App>("MambaFX: Mamba (selective state-space) neural audio effects", "mambafx");
    app->set_version_flag("--version", versionString, "Print the version and exit");
    app->require_subcommand(1);
    app->footer("Run 'mambafx COMMAND --help' for the options of one command.");
    return app;
}

CLI::Validator finiteRange(double lo, double hi) {
    std::ostringstream range;
    range << lo << " to " << hi;
    const std::string text = range.str();
    return CLI::Validator(
        [lo, hi, text](std::string& value) -> std::string {
            double v = 0;
            std::size_t used = 0;
            try {
                v = std::stod(value, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != value.size()) return "'" + value + "' is not a number; give one from " + text;
            if (!std::isfinite(v) || v < lo || v > hi) return value + " is outside " + text;
            return {};
        },
        "NUMBER in " + text);
}

CLI::Validator nonEmpty() {
    return CLI::Validator([](std::string& value) -> std::string { return value.empty() ? "is empty (an unset variable?); give a value, or leave the option out" : std::string(); }, "");
}

// std::cerr may have been left failed by another thread: RtAudio prints its JACK-shutdown notice to it
// from libjack's process thread, which RtAudio's own closing thread cancels asynchronously, and a
// cancelled inserter sets badbit on the way out; every later message would then be lost. Clear it.
void printError(const std::string& message) {
    std::cerr.clear();
    std::cerr << "error: " << message << std::endl;
}
void printNote(const std::string& message) {
    std::cerr.clear();
    std::cerr << "note: " << message << std::endl;
}

int runApp(CLI::App& app, int argc, const char* const* argv) {
    installTerminateHandler();
    try {
        // A mistyped command: name it (CLI11 would only say that a subcommand is required).
        if (argc > 1 && argv[1][0] != '-') {
            const auto commands = app.get_subcommands([](CLI::App*) { return true; });
            std::string names;
            bool known = false;
            for (const CLI::App* c : commands) {
                known = known || c->get_name() == argv[1];
                names += (names.empty() ? "" : ", ") + c->get_name();
            }
            if (!known && !commands.empty())
                throw UsageError(std::string("'") + argv[1] + "' is not a mambafx command; the commands are " + names);
        }
        app.parse(argc, argv);
        return kExitOk;
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e); // prints help, version or the parse error with a hint
        return code == 0 ? kExitOk : kExitUsage;
    } catch (const UsageError& e) {
        printError(e.what());
        std::cerr << "Run with --help for more information." << std::endl;
        return kExitUsage;
    } catch (const Interrupted&) {
        std::cerr << "interrupted" << std::endl;
        return kExitInterrupted;
    } catch (const ExitRequest& e) {
        return e.code;
    } catch (const std::exception& e) {
        printError(e.what());
        return kExitFailure;
    }
}

} // namespace mfx::apps
