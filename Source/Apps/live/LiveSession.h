#pragma once
// One run of `mambafx live`: model, devices, stream, keyboard, status line, recording, summary.
#include "LiveOptions.h"

#include <iosfwd>

namespace mfx::live {

// Runs until --duration, 'q', Ctrl-C/SIGTERM (all clean stops: exit 0), or the audio system dropping
// the stream (LiveError). Status and messages go to `out`. Throws LiveError / ModelError on problems;
// returns the exit code otherwise (1 if the recording lost audio).
int runLive(const LiveOptions& options, std::ostream& out);

// --list: prints the APIs and devices. Throws LiveError for an unknown --api.
void listDevices(const LiveOptions& options, std::ostream& out);

} // namespace mfx::live
