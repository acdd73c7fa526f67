#pragma once
// Records the processed output of the live stream to a sound file without touching the disk on the
// audio thread: push() copies into a lock-free SPSC ring, a writer thread drains it with libsndfile.
// The file is written under a temporary name next to the target and renamed by finish(), so an
// interrupted run never leaves a half-written file under the requested name.
#include "SpscRing.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace mfx::live {

// libsndfile format for a file name's extension (.wav/.w64/.caf/.aiff/.aif: 32-bit float;
// .flac: 24-bit). Throws LiveError naming the supported extensions.
int recordFormatFor(const std::string& path);

class Recorder {
public:
    // Opens the temporary file and starts the writer thread. Throws LiveError (cannot create the file).
    Recorder(const std::string& path, int channels, int sampleRate, double ringSeconds = 4.0);
    ~Recorder(); // without finish(): stops the writer and deletes the temporary file
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Audio thread: queues n frames of `channels` planar buffers. Never blocks; if the ring is full
    // the block is dropped and counted.
    void push(const float* const* planar, int n) noexcept;

    // Drains the ring, closes the file and renames it to the target. Throws LiveError on a write
    // error (the temporary file is removed). Call after the audio stream has stopped.
    void finish();

    const std::string& path() const noexcept { return path_; }
    std::uint64_t framesWritten() const noexcept { return framesWritten_.load(std::memory_order_acquire); }
    std::uint64_t framesDropped() const noexcept { return framesDropped_.load(std::memory_order_acquire); }

private:
    void writerLoop();
    void abandon() noexcept;

    std::string path_, tempPath_;
    int channels_;
    SpscRing ring_;
    void* file_ = nullptr; // SNDFILE*
    std::thread writer_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> failed_{false};
    std::string error_; // set by the writer before failed_ (release)
    std::atomic<std::uint64_t> framesWritten_{0};
    std::atomic<std::uint64_t> framesDropped_{0};
    bool finished_ = false;
};

} // namespace mfx::live
