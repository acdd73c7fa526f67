// `mambafx live`: the model on a live audio stream through RtAudio.
#include "LiveCommand.h"

#include "LiveOptions.h"
#include "LiveSession.h"

#include <Model/ModelError.h>
#include <common/Errors.h>

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace mfx::live {

void addLiveCommand(CLI::App& app) {
    auto options = std::make_shared<LiveOptions>();
    CLI::App* cmd = app.add_subcommand("live", "Play live audio through a model (full duplex, low latency, RtAudio)");
    addLiveOptions(*cmd, *options);
    cmd->footer("Keys while running: n/p next/previous model in the model's folder, b bypass, q quit (Ctrl-C also stops).\n"
                "Example: mambafx live --api jack --model Resources/Models/default.safetensors --record take.wav");
    cmd->callback([options] {
        try {
            validateLiveOptions(*options);
        } catch (const LiveError& e) {
            throw apps::UsageError(e.what());
        }
        int code = 0;
        try {
            if (options->list) {
                listDevices(*options, std::cout);
                return;
            }
            code = runLive(*options, std::cout);
        } catch (const LiveError& e) {
            throw apps::Failure(e.what());
        } catch (const ModelError& e) {
            throw apps::Failure(e.what());
        }
        if (code != 0) throw apps::ExitRequest{code};
    });
}

} // namespace mfx::live
