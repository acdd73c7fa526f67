#pragma once
// `mambafx live`: registers the subcommand on the mambafx app (see Source/Apps/README.md).
namespace CLI {
class App;
}

namespace mfx::live {
void addLiveCommand(CLI::App& app);
}

// The registration function in the form main.cpp calls the others.
namespace mfx::apps {
inline void addLiveCommand(CLI::App& app) { mfx::live::addLiveCommand(app); }
}
