// The stderr progress bar.
#include "Progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mfx::apps {

namespace {

int terminalWidth() {
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 80;
}

} // namespace

Progress::Progress(double totalSeconds, Mode mode) : totalSeconds_(totalSeconds) {
    tty_ = isatty(STDERR_FILENO) != 0;
    enabled_ = mode == Mode::Always || (mode == Mode::Auto && tty_);
    start_ = Clock::now();
    lastDraw_ = start_ - std::chrono::seconds(1);
}

Progress::~Progress() { finish(); }

void Progress::setLabel(const std::string& label) { label_ = label; }

double Progress::realtimeFactor(double audioSeconds, double wallSeconds) {
    return wallSeconds > 1e-9 ? audioSeconds / wallSeconds : 0.0;
}

std::string Progress::formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0.0) return "?";
    const long s = std::lround(seconds);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

void Progress::update(double doneSeconds) {
    doneSeconds_ = doneSeconds;
    if (!enabled_) return;
    const auto now = Clock::now();
    if (tty_) {
        if (now - lastDraw_ < std::chrono::milliseconds(100)) return;
        lastDraw_ = now;
        draw();
        return;
    }
    const double fraction = totalSeconds_ > 0.0 ? doneSeconds_ / totalSeconds_ : 1.0;
    const int decile = static_cast<int>(std::floor(std::clamp(fraction, 0.0, 1.0) * 10.0));
    if (decile != lastDecile_) {
        lastDecile_ = decile;
        draw();
    }
}

void Progress::draw() {
    const double fraction = std::clamp(totalSeconds_ > 0.0 ? doneSeconds_ / totalSeconds_ : 1.0, 0.0, 1.0);
    const double wall = std::chrono::duration<double>(Clock::now() - start_).count();
    const double speed = realtimeFactor(doneSeconds_, wall);
    const std::string eta = speed > 0.0 ? formatDuration((totalSeconds_ - doneSeconds_) / speed) : "?";

    constexpr int kBarWidth = 20;
    const int filled = static_cast<int>(std::lround(fraction * kBarWidth));
    std::string line(1, '[');
    line.append(static_cast<std::size_t>(filled), '#').append(static_cast<std::size_t>(kBarWidth - filled), '.');
    line.push_back(']');
    char stats[96];
    std::snprintf(stats, sizeof stats, " %3d%%  %7.1fx real-time  ETA %s  ", static_cast<int>(fraction * 100.0), speed,
                  eta.c_str());
    line += stats;
    line += label_;
    if (tty_) {
        const std::size_t width = static_cast<std::size_t>(terminalWidth() - 1);
        if (line.size() > width) line.resize(width);
        std::fprintf(stderr, "\r%s\033[K", line.c_str());
    } else {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    drawn_ = true;
}

void Progress::clear() {
    if (enabled_ && tty_ && drawn_) {
        std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
    }
    drawn_ = false;
    lastDraw_ = Clock::now() - std::chrono::seconds(1);
}

void Progress::finish() {
    clear();
    enabled_ = false;
}

} // namespace mfx::apps
