// `mambafx live`: the model on a live audio stream through RtAudio.
#include "LiveCommand.h"

#include "AudioSystem.h"
#include "LiveOptions.h"
#include "LiveSession.h"

#include <Model/ModelError.h>
#include <common/Errors.h>

#include <CLI/CLI.hpp>

#include <algorithm>
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
        if (!options->api.empty()) { // a name this build's RtAudio does not know is the command line's problem
            const auto names = compiledApiNames();
            if (std::find(names.begin(), names.end(), options->api) == names.end()) {
                std::string list;
                for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
                throw apps::UsageError("--api " + options->api + " is not an audio API of this build; use one of: " + list +
                                       " (mambafx live --list shows their devices)");
            }
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
