#pragma once
// What the command-line apps print when the C++ runtime gives up (std::terminate): instead of
// libstdc++'s one line ("terminate called without an active exception"), the exception if there is
// one, the thread, a backtrace of where it happened and what to do next, then abort() as before
// (exit status 134, a core dump where enabled). Installed by runApp().
namespace mfx::apps {

void installTerminateHandler() noexcept;

} // namespace mfx::apps
