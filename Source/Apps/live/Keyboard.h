#pragma once
// Single-key control from the terminal: while a Keyboard lives and stdin is a terminal, the terminal
// is in non-canonical, no-echo mode (Ctrl-C still sends SIGINT); the previous mode is restored when
// it is destroyed. When stdin is not a terminal (a pipe, a test), keys are simply never read.
#include <termios.h>

namespace mfx::live {

class Keyboard {
public:
    Keyboard();
    ~Keyboard();
    Keyboard(const Keyboard&) = delete;
    Keyboard& operator=(const Keyboard&) = delete;

    bool active() const noexcept { return active_; }
    // Waits up to timeoutMs for a key; returns it, or -1 (no key, not a terminal, or interrupted).
    int poll(int timeoutMs);

private:
    bool active_ = false;
    termios saved_{};
};

} // namespace mfx::live
