#pragma once
// A progress bar on stderr for long work: bar, percent, x real-time, ETA and the current item.
//   [##########..........]  52%   38.1x real-time   ETA 0:07   guitar/take3.wav
// Shown when stderr is a terminal (redrawn in place, about 10 times a second) or when forced with
// --progress (then, off a terminal, one plain line per 10 %). Never on the audio path.
#include <chrono>
#include <string>

namespace mfx::apps {

class Progress {
public:
    enum class Mode { Auto, Always, Never };

    // totalSeconds: the duration of all audio to process (the bar's 100 %).
    Progress(double totalSeconds, Mode mode);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    bool enabled() const { return enabled_; }

    void setLabel(const std::string& label);
    // Audio seconds finished so far (of all items). Redraws when due.
    void update(double doneSeconds);
    // Erases the bar so other output can be printed; the next update() draws it again.
    void clear();
    // Erases the bar for good.
    void finish();

    // x real-time = audio seconds / wall seconds (0 when nothing measurable yet).
    static double realtimeFactor(double audioSeconds, double wallSeconds);
    // "0:07", "12:03", "1:02:03"
    static std::string formatDuration(double seconds);

private:
    void draw();

    using Clock = std::chrono::steady_clock;
    double totalSeconds_ = 0.0;
    double doneSeconds_ = 0.0;
    bool enabled_ = false;
    bool tty_ = false;
    bool drawn_ = false;
    int lastDecile_ = -1;
    std::string label_;
    Clock::time_point start_;
    Clock::time_point lastDraw_;
};

} // namespace mfx::apps
