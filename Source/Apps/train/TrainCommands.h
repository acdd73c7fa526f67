#pragma once
// `mambafx train` and `mambafx capture-signal`: registration functions in the form main.cpp calls.
namespace CLI {
class App;
}

namespace mfx::apps {
void addTrainCommand(CLI::App& app);         // mambafx train --input IN --target [knob=v:]OUT... -o MODEL
void addCaptureSignalCommand(CLI::App& app); // mambafx capture-signal -o capture.wav
} // namespace mfx::apps
