// mambafx: the MambaFX command-line app. Each subcommand registers itself (see Commands.h and
// Source/Apps/README.md); this file is only the list.
#include "Commands.h"

#include <common/CommandLine.h>

#ifdef MFX_WITH_LIVE
#include <live/LiveCommand.h>
#endif
#ifdef MFX_WITH_TRAIN
#include <train/TrainCommands.h>
#endif

int main(int argc, char** argv) {
    auto app = mfx::apps::makeMainApp();
    mfx::apps::addInfoCommand(*app);
    mfx::apps::addRenderCommand(*app);
    mfx::apps::addBenchCommand(*app);
#ifdef MFX_WITH_LIVE
    mfx::apps::addLiveCommand(*app);
#endif
#ifdef MFX_WITH_TRAIN
    mfx::apps::addTrainCommand(*app);
    mfx::apps::addCaptureSignalCommand(*app);
#endif
    return mfx::apps::runApp(*app, argc, argv);
}
