// The mambafx top-level app: version string, error-to-exit-code mapping.
#include "CommandLine.h"

#include "Errors.h"

#include <Backend/Backend.h>

#include <iostream>

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

void printError(const std::string& message) { std::cerr << "error: " << message << std::endl; }
void printNote(const std::string& message) { std::cerr << "note: " << message << std::endl; }

int runApp(CLI::App& app, int argc, const char* const* argv) {
    try {
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
