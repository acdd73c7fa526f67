#include "Keyboard.h"

#include <chrono>
#include <poll.h>
#include <thread>
#include <unistd.h>

namespace mfx::live {

Keyboard::Keyboard() {
    if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

Keyboard::~Keyboard() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

int Keyboard::poll(int timeoutMs) {
    if (!active_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs));
        return -1;
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) <= 0 || !(p.revents & POLLIN)) return -1;
    unsigned char c = 0;
    return ::read(STDIN_FILENO, &c, 1) == 1 ? c : -1;
}

} // namespace mfx::live
