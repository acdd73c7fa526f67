#include "Recorder.h"

#include "LiveOptions.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace mfx::live {

int recordFormatFor(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".wav") return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    if (ext == ".w64") return SF_FORMAT_W64 | SF_FORMAT_FLOAT;
    if (ext == ".caf") return SF_FORMAT_CAF | SF_FORMAT_FLOAT;
    if (ext == ".aiff" || ext == ".aif") return SF_FORMAT_AIFF | SF_FORMAT_FLOAT;
    if (ext == ".flac") return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    throw LiveError("--record " + path + ": unknown file type '" + ext +
                    "'; use a name ending in .wav, .flac, .aiff, .caf or .w64");
}

Recorder::Recorder(const std::string& path, int channels, int sampleRate, double ringSeconds)
    : path_(path), channels_(channels),
      ring_(channels, static_cast<std::size_t>(std::max(1.0, ringSeconds * sampleRate))) {
    SF_INFO info{};
    info.samplerate = sampleRate;
    info.channels = channels;
    info.format = recordFormatFor(path);
    if (!sf_format_check(&info))
        throw LiveError("--record " + path + ": this file type cannot hold " + std::to_string(channels) +
                        " channels at " + std::to_string(sampleRate) + " Hz; use .wav");
    // Temporary file next to the target (same file system, so the final rename is atomic).
    std::string pattern = path + ".tmp-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = mkstemp(name.data());
    if (fd < 0)
        throw LiveError("--record " + path + ": cannot create a file there (" + std::string(std::strerror(errno)) +
                        "); check that the folder exists and is writable");
    tempPath_ = name.data();
    const mode_t mask = ::umask(0); // mkstemp makes 0600; give the recording the usual permissions
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    SNDFILE* f = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    if (!f) {
        const std::string why = sf_strerror(nullptr);
        ::close(fd);
        std::remove(tempPath_.c_str());
        throw LiveError("--record " + path + ": cannot write the file: " + why);
    }
    file_ = f;
    writer_ = std::thread([this] { writerLoop(); });
}

Recorder::~Recorder() {
    if (!finished_) abandon();
}

void Recorder::push(const float* const* planar, int n) noexcept {
    if (n <= 0) return;
    if (!ring_.pushPlanar(planar, static_cast<std::size_t>(n)))
        framesDropped_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
}

void Recorder::writerLoop() {
    auto* f = static_cast<SNDFILE*>(file_);
    constexpr std::size_t kChunk = 4096;
    std::vector<float> buf(kChunk * static_cast<std::size_t>(channels_)); // (kChunk, channels)
    for (;;) {
        // Read the flag first: everything pushed before stop() is then visible to the pop below.
        const bool last = stopping_.load(std::memory_order_acquire);
        std::size_t n;
        while ((n = ring_.pop(buf.data(), kChunk)) > 0) {
            if (sf_writef_float(f, buf.data(), static_cast<sf_count_t>(n)) != static_cast<sf_count_t>(n)) {
                error_ = sf_strerror(f);
                failed_.store(true, std::memory_order_release);
                return;
            }
            framesWritten_.fetch_add(n, std::memory_order_release);
        }
        if (last) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void Recorder::finish() {
    if (finished_) return;
    finished_ = true;
    stopping_.store(true, std::memory_order_release);
    if (writer_.joinable()) writer_.join();
    auto* f = static_cast<SNDFILE*>(file_);
    file_ = nullptr;
    std::string error;
    if (failed_.load(std::memory_order_acquire)) error = error_;
    if (f && sf_close(f) != 0 && error.empty()) error = "closing the file failed";
    if (error.empty()) {
        std::error_code ec;
        std::filesystem::rename(tempPath_, path_, ec);
        if (ec) error = "cannot rename " + tempPath_ + " to " + path_ + ": " + ec.message();
    }
    if (!error.empty()) {
        std::remove(tempPath_.c_str());
        throw LiveError("recording to " + path_ + " failed: " + error + " (is the disk full?)");
    }
}

void Recorder::abandon() noexcept {
    stopping_.store(true, std::memory_order_release);
    if (writer_.joinable()) writer_.join();
    if (file_) sf_close(static_cast<SNDFILE*>(file_));
    file_ = nullptr;
    if (!tempPath_.empty()) std::remove(tempPath_.c_str());
}

} // namespace mfx::live
