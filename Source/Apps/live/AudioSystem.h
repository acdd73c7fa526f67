#pragma once
// The RtAudio side of the live app: enumerating APIs and devices, and one full-duplex stream of
// non-interleaved float32 whose callback hands the buffers straight to an AudioCallback (no extra
// buffering). RtAudio's headers stay inside AudioSystem.cpp.
#include "DeviceChoice.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

class RtAudio;

namespace mfx::live {

// Every API compiled into RtAudio, in RtAudio's order of preference, with its devices. If `only`
// is not empty, only that API is asked for devices (the others are listed by name, without devices),
// so a JACK run does not wake up ALSA or PulseAudio.
std::vector<ApiDescription> probeApis(const std::string& only = "");
// The names of the APIs compiled into RtAudio ("alsa", "pulse", "jack", ...), without probing devices.
std::vector<std::string> compiledApiNames();

class AudioCallback {
public:
    virtual ~AudioCallback() = default;
    // Audio thread. in: input channels, out: output channels (planar), n frames.
    virtual void audioBlock(const float* const* in, float* const* out, int n, bool xrun) noexcept = 0;
};

struct StreamRequest {
    std::string api;
    unsigned inputDevice = 0, outputDevice = 0;
    int inputChannels = 1, outputChannels = 2;
    unsigned sampleRate = 48000;
    unsigned bufferFrames = 64;
    std::string clientName = "mambafx";
};

class AudioStream {
public:
    AudioStream();
    ~AudioStream(); // stops and closes
    AudioStream(const AudioStream&) = delete;
    AudioStream& operator=(const AudioStream&) = delete;

    // Opens the stream with real-time scheduling requested (RTAUDIO_SCHEDULE_REALTIME). The callback
    // is not called before start(). Throws LiveError with RtAudio's message.
    void open(const StreamRequest& request, AudioCallback* callback);
    void start();
    void stop();  // no-op if not running
    void close(); // no-op if not open
    // After the audio system lost the stream: never touch it again (no stop, close or destructor
    // call into the audio library, which may be closing it from its own thread or block on a server
    // that is gone). The library object is left to the process's exit. Its callback may still run
    // (a stream thought lost can recover): from here on it only writes silence and never reaches
    // this object or the AudioCallback, and abandon() returns once no callback is inside them.
    void abandon() noexcept;

    bool running() const;                  // false also when the audio system closed the stream
    unsigned bufferFrames() const noexcept { return bufferFrames_; }   // as chosen by the device
    unsigned sampleRate() const noexcept { return sampleRate_; }
    long latencyFrames() const noexcept { return latencyFrames_; }     // input + output, as reported

    // Scheduling of the callback thread as seen by the first callback: {policy, priority}, or
    // {-1, 0} before the first callback, or kSchedUnreadable when the first callback could not read it.
    static constexpr int kSchedUnreadable = -2;
    int schedulingPolicy() const noexcept { return schedPolicy_.load(std::memory_order_acquire); }
    int schedulingPriority() const noexcept { return schedPriority_.load(std::memory_order_relaxed); }

private:
    static int rtCallback(void* out, void* in, unsigned n, double time, unsigned status, void* self);

    // What RtAudio's callback receives: outlives this object when the stream is abandoned.
    struct Gate {
        std::atomic<AudioStream*> owner{nullptr}; // nullptr once abandoned: the callback writes silence
        std::atomic<int> inside{0};               // callbacks currently using owner
        int outputChannels = 0;
    };

    std::unique_ptr<RtAudio> rt_;
    std::unique_ptr<Gate> gate_;
    AudioCallback* callback_ = nullptr;
    int inputChannels_ = 0, outputChannels_ = 0;
    unsigned bufferFrames_ = 0, sampleRate_ = 0;
    long latencyFrames_ = 0;
    std::atomic<int> schedPolicy_{-1};
    std::atomic<int> schedPriority_{0};
};

// "SCHED_FIFO" etc.
const char* schedulingPolicyName(int policy);
bool isRealtimePolicy(int policy);

} // namespace mfx::live
