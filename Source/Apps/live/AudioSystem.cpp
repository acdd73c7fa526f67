#include "AudioSystem.h"

#include "LiveOptions.h"

#include <RtAudio.h>
#ifdef MFX_LIVE_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <sched.h>

namespace mfx::live {

namespace {

DeviceDescription describe(const RtAudio::DeviceInfo& info, unsigned id) {
    DeviceDescription d;
    d.id = id;
    d.name = info.name;
    d.inputChannels = info.inputChannels;
    d.outputChannels = info.outputChannels;
    d.sampleRates = info.sampleRates;
    d.preferredRate = info.preferredSampleRate;
    d.isDefaultInput = info.isDefaultInput;
    d.isDefaultOutput = info.isDefaultOutput;
    return d;
}

RtAudio::Api apiByName(const std::string& name) {
    std::vector<RtAudio::Api> apis;
    RtAudio::getCompiledApi(apis);
    for (auto a : apis)
        if (RtAudio::getApiName(a) == name) return a;
    throw LiveError("audio API '" + name + "' is not compiled into RtAudio");
}

} // namespace

std::vector<std::string> compiledApiNames() {
    std::vector<RtAudio::Api> apis;
    RtAudio::getCompiledApi(apis);
    std::vector<std::string> names;
    for (auto a : apis) names.push_back(RtAudio::getApiName(a));
    return names;
}

#ifdef MFX_LIVE_HAVE_ALSA
// libasound prints its configuration errors (e.g. "cannot find card '0'" on a machine without a sound
// card) straight to stderr while RtAudio probes; the result is reported as "no devices" instead.
extern "C" void silentAlsaError(const char*, int, const char*, int, const char*, ...) {}
#endif

std::vector<ApiDescription> probeApis(const std::string& only) {
#ifdef MFX_LIVE_HAVE_ALSA
    snd_lib_error_set_handler(&silentAlsaError);
#endif
    std::vector<RtAudio::Api> apis;
    RtAudio::getCompiledApi(apis);
    std::vector<ApiDescription> out;
    for (auto api : apis) {
        if (api == RtAudio::RTAUDIO_DUMMY) continue;
        ApiDescription a;
        a.name = RtAudio::getApiName(api);
        a.displayName = RtAudio::getApiDisplayName(api);
        const bool wanted = only.empty() || only == a.name || only == a.displayName;
        if (wanted) {
            try {
                RtAudio rt(api);
                rt.showWarnings(false);
                const unsigned n = rt.getDeviceCount();
                for (unsigned i = 0; i < n; ++i) {
                    RtAudio::DeviceInfo info = rt.getDeviceInfo(i);
                    if (info.probed) a.devices.push_back(describe(info, i));
                }
                if (n == 0 && api == RtAudio::UNIX_JACK) a.problem = "no JACK server running";
            } catch (const RtAudioError& e) {
                a.problem = e.what();
            }
        } else {
            a.problem = "not probed";
        }
        out.push_back(std::move(a));
    }
    return out;
}

AudioStream::AudioStream() = default;

AudioStream::~AudioStream() {
    try {
        stop();
        close();
    } catch (...) {
    }
}

void AudioStream::open(const StreamRequest& r, AudioCallback* callback) {
    if (r.inputChannels > kMaxChannels || r.outputChannels > kMaxChannels)
        throw LiveError("at most " + std::to_string(kMaxChannels) + " channels are supported");
    callback_ = callback;
    inputChannels_ = r.inputChannels;
    outputChannels_ = r.outputChannels;
    gate_ = std::make_unique<Gate>();
    gate_->owner.store(this);
    gate_->outputChannels = r.outputChannels;
    try {
        rt_ = std::make_unique<RtAudio>(apiByName(r.api));
        rt_->showWarnings(false);
        RtAudio::StreamParameters in, out;
        in.deviceId = r.inputDevice;
        in.nChannels = static_cast<unsigned>(r.inputChannels);
        out.deviceId = r.outputDevice;
        out.nChannels = static_cast<unsigned>(r.outputChannels);
        RtAudio::StreamOptions options;
        options.flags = RTAUDIO_NONINTERLEAVED | RTAUDIO_SCHEDULE_REALTIME | RTAUDIO_MINIMIZE_LATENCY;
        options.priority = 70; // used where RtAudio creates the thread itself (ALSA, PulseAudio)
        options.streamName = r.clientName;
        unsigned frames = r.bufferFrames;
        rt_->openStream(&out, &in, RTAUDIO_FLOAT32, r.sampleRate, &frames,
                        &AudioStream::rtCallback, gate_.get(), &options);
        bufferFrames_ = frames;
        sampleRate_ = rt_->getStreamSampleRate();
        latencyFrames_ = rt_->getStreamLatency();
    } catch (const RtAudioError& e) {
        rt_.reset();
        throw LiveError("cannot open the audio stream on " + r.api + ": " + e.what());
    }
}

void AudioStream::start() {
    try {
        rt_->startStream();
    } catch (const RtAudioError& e) {
        throw LiveError(std::string("cannot start the audio stream: ") + e.what());
    }
}

bool AudioStream::running() const { return rt_ && rt_->isStreamOpen() && rt_->isStreamRunning(); }

void AudioStream::stop() {
    if (!rt_ || !rt_->isStreamOpen() || !rt_->isStreamRunning()) return;
    try {
        rt_->stopStream();
    } catch (const RtAudioError& e) {
        throw LiveError(std::string("stopping the audio stream failed: ") + e.what());
    }
}

void AudioStream::abandon() noexcept {
    if (gate_) {
        // Dekker-style hand-off (both sides sequentially consistent): a callback either sees the null
        // owner, or is counted in `inside` before we look, and we wait for it to leave.
        gate_->owner.store(nullptr);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (gate_->inside.load() != 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        static_cast<void>(gate_.release()); // the callback may still run: it reads the gate
    }
    static_cast<void>(rt_.release()); // deliberately leaked, see the header
}

void AudioStream::close() {
    if (rt_ && rt_->isStreamOpen()) rt_->closeStream();
    rt_.reset();
    gate_.reset(); // no callback after closeStream()
}

int AudioStream::rtCallback(void* out, void* in, unsigned n, double, unsigned status, void* user) {
    // libjack runs this callback on a thread whose cancellation type is asynchronous (measured: JACK2
    // 1.9.21 of Debian 12), and cancels that thread when the client is closed (pthread_cancel, e.g.
    // when RtAudio closes the stream from its own thread after the server quit). A cancel landing
    // inside the noexcept audioBlock() would unwind through it and end the process in std::terminate.
    // (The same cancel also lands outside our code: RtAudio's shutdown handler prints its notice to
    // std::cerr on this very thread while its closing thread cancels it; cancelled inside an inserter,
    // libstdc++ sets badbit on std::cerr (printError clears it), inside the unitbuf flush of a sentry's
    // noexcept destructor it terminates - which explains the intermittent abort and lost message at
    // JACK server shutdown. Measured with a bare RtAudio 5.2 client, none of our code: std::cerr was
    // left bad after 3 of 60 server shutdowns. RtAudio's code, not ours; the crash report shows a
    // terminate if it recurs.)
    // So no cancellation inside this callback: one that arrives meanwhile stays
    // pending and acts when the old state comes back at the end, outside the model and after the gate
    // is left. (Both calls flip a flag in the thread descriptor: no system call, no lock.)
    int cancelState = PTHREAD_CANCEL_ENABLE;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancelState);
    auto* gate = static_cast<Gate*>(user);
    gate->inside.fetch_add(1);
    AudioStream* self = gate->owner.load();
    if (!self) { // abandoned: silence, and nothing of the session is touched
        std::fill_n(static_cast<float*>(out), static_cast<std::size_t>(gate->outputChannels) * n, 0.0f);
        gate->inside.fetch_sub(1);
        pthread_setcancelstate(cancelState, nullptr);
        return 0;
    }
    if (self->schedPolicy_.load(std::memory_order_relaxed) < 0) {
        int policy = 0;
        sched_param param{};
        if (pthread_getschedparam(pthread_self(), &policy, &param) == 0) {
            self->schedPriority_.store(param.sched_priority, std::memory_order_relaxed);
            self->schedPolicy_.store(policy, std::memory_order_release);
        } else {
            self->schedPolicy_.store(kSchedUnreadable, std::memory_order_release); // tried once, not every callback
        }
    }
    // Non-interleaved: channel c starts at base + c * n.
    const float* inPtr[kMaxChannels];
    float* outPtr[kMaxChannels];
    const auto* inBase = static_cast<const float*>(in);
    auto* outBase = static_cast<float*>(out);
    for (int c = 0; c < self->inputChannels_; ++c) inPtr[c] = inBase + static_cast<std::size_t>(c) * n;
    for (int c = 0; c < self->outputChannels_; ++c) outPtr[c] = outBase + static_cast<std::size_t>(c) * n;
    self->callback_->audioBlock(inPtr, outPtr, static_cast<int>(n), status != 0);
    gate->inside.fetch_sub(1);
    pthread_setcancelstate(cancelState, nullptr); // a pending cancellation acts here
    return 0;
}

const char* schedulingPolicyName(int policy) {
    switch (policy) {
    case SCHED_FIFO: return "SCHED_FIFO";
    case SCHED_RR: return "SCHED_RR";
    case SCHED_OTHER: return "SCHED_OTHER";
#ifdef SCHED_BATCH
    case SCHED_BATCH: return "SCHED_BATCH";
#endif
#ifdef SCHED_IDLE
    case SCHED_IDLE: return "SCHED_IDLE";
#endif
    default: return "unknown";
    }
}

bool isRealtimePolicy(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }

} // namespace mfx::live
