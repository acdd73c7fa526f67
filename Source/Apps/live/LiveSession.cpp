#include "LiveSession.h"

#include "AudioSystem.h"
#include "DeviceChoice.h"
#include "Keyboard.h"
#include "LiveProcessor.h"
#include "ModelFolder.h"
#include "RateAdapter.h"
#include "Recorder.h"
#include "StatusBoard.h"

#include <Engine/EngineSlot.h>
#include <Model/ModelError.h>
#include <Model/ModelFile.h>
#include <common/DefaultModel.h>
#include <common/Errors.h>
#include <common/Interrupt.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace mfx::live {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Forwards RtAudio's callback to the processor (set before the stream starts, never changed after).
struct ProcessorCallback final : AudioCallback {
    LiveProcessor* processor = nullptr;
    int outputChannels = 0;
    void audioBlock(const float* const* in, float* const* out, int n, bool xrun) noexcept override {
        processor->process(in, out, n, xrun);
    }
};

std::string dbText(float peak) {
    char buf[32];
    if (peak <= 0.0f) return "  -inf";
    std::snprintf(buf, sizeof buf, "%6.1f", 20.0 * std::log10(static_cast<double>(peak)));
    return buf;
}

std::string percent(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * fraction);
    return buf;
}

fs::path resolveModelPath(const LiveOptions& o) {
    if (!o.modelPath.empty()) {
        std::error_code ec;
        if (fs::is_directory(o.modelPath, ec))
            throw LiveError("'" + o.modelPath + "' is a folder; give one .safetensors model in it with --model (n/p then "
                            "switch between the models next to it)");
        if (!fs::is_regular_file(o.modelPath, ec))
            throw LiveError("model file '" + o.modelPath + "' does not exist; give a .safetensors model with --model");
        return o.modelPath;
    }
    const auto candidates = apps::defaultModelCandidates();
    if (auto found = apps::findDefaultModel(candidates)) return *found;
    std::string looked;
    for (const auto& c : candidates) looked += (looked.empty() ? "" : ", ") + c.string();
    throw apps::UsageError("no --model given and the bundled default model was not found (looked in: " + looked +
                           "); give a model with --model FILE"); // exit 2, as `render` does
}

// Prints above the status line (clearing it on a terminal).
class Screen {
public:
    explicit Screen(std::ostream& out) : out_(out), tty_(::isatty(STDOUT_FILENO) == 1) {}
    bool tty() const { return tty_; }
    void message(const std::string& text) {
        if (tty_ && statusShown_) out_ << "\r\x1b[K";
        out_ << text << '\n';
        statusShown_ = false;
        out_.flush();
    }
    void status(const std::string& text) {
        if (tty_) {
            out_ << "\r\x1b[K" << text;
            statusShown_ = true;
        } else {
            out_ << text << '\n';
        }
        out_.flush();
    }
    void endStatus() {
        if (tty_ && statusShown_) out_ << '\n';
        statusShown_ = false;
    }

private:
    std::ostream& out_;
    bool tty_;
    bool statusShown_ = false;
};

} // namespace

void listDevices(const LiveOptions& o, std::ostream& out) {
    auto apis = probeApis(o.api);
    if (!o.api.empty()) {
        bool known = false;
        for (const auto& a : apis) known = known || a.name == o.api || a.displayName == o.api;
        if (!known) chooseApi(apis, o.api); // throws "unknown audio API ..."
    }
    out << formatDeviceList(apis);
}

int runLive(const LiveOptions& o, std::ostream& out) {
    Screen screen(out);

    // The model first: its rate is the stream's default rate.
    const fs::path modelPath = resolveModelPath(o);

    // API and devices.
    const auto apis = probeApis(o.api);
    const ApiDescription& api = chooseApi(apis, o.api);
    const DeviceDescription& inDev = resolveDevice(api, o.inputDeviceSpec(), Direction::Input, o.inputChannels);
    const DeviceDescription& outDev = resolveDevice(api, o.outputDeviceSpec(), Direction::Output, o.outputChannels);

    const Model model = loadModel(modelPath.string());
    const double modelRate = model.config.sampleRate;
    std::string rateNote;
    double rate = o.sampleRate;
    if (o.sampleRateGiven) {
        checkSampleRate(api, inDev, rate, true);
        if (outDev.id != inDev.id) checkSampleRate(api, outDev, rate, true);
    } else {
        rate = chooseStreamRate(api, inDev, outDev, modelRate, rateNote);
    }

    LoadedEngine first = buildEngine(model, modelPath, modelRate, o.inputChannels);
    ModelFolder folder(modelPath);

    // Declaration order matters: the stream is destroyed (stopped) first, then what its callback uses.
    std::unique_ptr<EngineSlot> slot;
    std::unique_ptr<Recorder> recorder, inputRecorder;
    std::unique_ptr<RateAdapter> adapter;
    StatusBoard status;
    std::unique_ptr<LiveProcessor> processor;
    ProcessorCallback callback;
    AudioStream stream;

    StreamRequest request;
    request.api = api.name;
    request.inputDevice = inDev.id;
    request.outputDevice = outDev.id;
    request.inputChannels = o.inputChannels;
    request.outputChannels = o.outputChannels;
    request.sampleRate = static_cast<unsigned>(rate);
    request.bufferFrames = static_cast<unsigned>(o.bufferFrames);
    request.clientName = o.clientName;
    stream.open(request, &callback);
    const std::string bufferNote = checkBufferSize(api.name, o.bufferFrames, o.bufferFramesGiven, stream.bufferFrames());
    if (stream.sampleRate() != request.sampleRate)
        throw LiveError("the device runs at " + std::to_string(stream.sampleRate()) + " Hz instead of " +
                        std::to_string(request.sampleRate) + " Hz; use --rate " + std::to_string(stream.sampleRate()) +
                        " with a model made for it");

    const int frames = static_cast<int>(stream.bufferFrames());
    const int maxBlock = std::max(frames, kDefaultBufferFrames);
    slot = std::make_unique<EngineSlot>(o.inputChannels, maxBlock);
    if (rate != modelRate)
        adapter = std::make_unique<RateAdapter>(rate, modelRate, o.inputChannels, maxBlock, *parseResamplerQuality(o.resampleQuality));
    if (!o.recordPath.empty()) recorder = std::make_unique<Recorder>(o.recordPath, o.outputChannels, static_cast<int>(rate));
    if (!o.recordInputPath.empty())
        inputRecorder = std::make_unique<Recorder>(o.recordInputPath, o.inputChannels, static_cast<int>(rate));

    ProcessorSettings settings;
    settings.inputChannels = o.inputChannels;
    settings.outputChannels = o.outputChannels;
    settings.maxBlock = maxBlock;
    settings.sampleRate = rate;
    settings.inputGain = dbToGain(o.inputGainDb);
    settings.outputGain = dbToGain(o.outputGainDb);
    settings.mix = static_cast<float>(o.mix);
    processor = std::make_unique<LiveProcessor>(settings, *slot, status, recorder.get(), inputRecorder.get(), adapter.get());
    callback.processor = processor.get();

    // The first engine becomes current before the stream starts: the stream starts from its rest state.
    std::string modelName = first.name;
    if (!slot->publish(first.engine)) throw LiveError("internal: the engine slot refused the first model");
    slot->process(nullptr, nullptr, o.inputChannels, 0); // picks it up now (no audio yet, no crossfade)

    const double periodMs = 1000.0 * frames / rate;
    std::ostringstream info;
    info << "live: " << api.displayName << ", input '" << inDev.name << "' (" << o.inputChannels << " ch) -> output '"
         << outDev.name << "' (" << o.outputChannels << " ch), " << rate << " Hz, buffer " << frames << " frames ("
         << std::fixed << std::setprecision(2) << periodMs << " ms)";
    screen.message(info.str());
    if (!bufferNote.empty()) screen.message("live: " + bufferNote);
    if (!rateNote.empty()) screen.message("live: " + rateNote);
    {
        std::ostringstream s;
        s << "live: stream latency " << stream.latencyFrames() << " frames (" << std::fixed << std::setprecision(2)
          << 1000.0 * static_cast<double>(stream.latencyFrames()) / rate << " ms) as reported by " << api.displayName
          << " (input + output); ";
        if (adapter)
            s << "resampling " << std::llround(rate) << " -> " << std::llround(modelRate) << " -> " << std::llround(rate)
              << " Hz (libsamplerate, "
              << o.resampleQuality << ") adds " << adapter->latencyFrames() << " frames ("
              << 1000.0 * adapter->latencyFrames() / rate << " ms)";
        else
            s << "the model adds none";
        screen.message(s.str());
    }
    screen.message("live: model '" + modelName + "' (" + first.summary + ") from " + modelPath.string());
    if (o.inputGainDb != 0.0 || o.outputGainDb != 0.0 || o.mix != 1.0) {
        std::ostringstream s;
        s << "live: input gain " << o.inputGainDb << " dB, output gain " << o.outputGainDb << " dB, mix " << o.mix;
        screen.message(s.str());
    }

    Keyboard keyboard;
    apps::ScopedInterruptHandler interrupts;
    apps::clearInterrupt();
    stream.start();

    // Real-time scheduling as the callback thread sees it.
    for (int i = 0; i < 100 && stream.schedulingPolicy() == -1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int policy = stream.schedulingPolicy();
    if (policy == AudioStream::kSchedUnreadable)
        screen.message("live: real-time scheduling: unknown (the callback thread could not read it)");
    else if (policy < 0)
        screen.message("live: real-time scheduling: unknown (no callback within 1 s)");
    else if (isRealtimePolicy(policy))
        screen.message(std::string("live: real-time scheduling: granted (") + schedulingPolicyName(policy) + ", priority " +
                       std::to_string(stream.schedulingPriority()) + ")");
    else
        screen.message(std::string("live: real-time scheduling: NOT granted (") + schedulingPolicyName(policy) +
                       "); dropouts are likely under load. Allow it with an rtprio limit (e.g. the 'audio' group in "
                       "/etc/security/limits.d), or run JACK with -R");
    screen.message(keyboard.active() ? "live: keys: n next model, p previous, b bypass, q quit"
                                     : "live: keyboard control off (stdin is not a terminal); stop with Ctrl-C");

    // The UI loop: keys, model loading, status line, stop conditions.
    std::future<LoadedEngine> loading;
    std::string loadingName;
    fs::path loadingPath;
    LoadedEngine waiting; // loaded, waiting for publish() to accept it
    std::string stopReason, failure;
    const auto statusInterval = std::chrono::milliseconds(screen.tty() ? 250 : 1000);
    auto nextStatus = Clock::now() + statusInterval;
    // Heartbeat: the audio callback advances status.frames(). A stream that claims to run but has
    // not called back for a second is lost (a JACK server that quit does not always get through to
    // RtAudio's shutdown handling).
    std::uint64_t lastFrames = 0;
    auto lastAdvance = Clock::now(), lastLoop = lastAdvance;
    const char* lostStream = "the audio system stopped the stream (did the JACK server quit?)";
    const std::uint64_t frameLimit =
        o.durationGiven ? static_cast<std::uint64_t>(std::llround(o.durationSeconds * rate)) : 0;

    auto startLoad = [&](int step) {
        if (loading.valid() || waiting.engine) {
            screen.message("live: still switching to '" + loadingName + "'");
            return;
        }
        const fs::path next = folder.peek(step);
        if (next == folder.current() && folder.models().size() == 1) {
            screen.message("live: no other model in " + modelPath.parent_path().string());
            return;
        }
        loadingName = next.filename().string();
        loadingPath = next;
        screen.message("live: loading " + next.string());
        loading = std::async(std::launch::async,
                             [next, modelRate, ch = o.inputChannels] { return loadEngine(next, modelRate, ch); });
    };

    for (;;) {
        const int key = keyboard.poll(20);
        if (key == 'q' || key == 'Q') { stopReason = "quit"; break; }
        if (key == 'b' || key == 'B') {
            processor->setBypass(!processor->bypass());
            screen.message(processor->bypass() ? "live: bypass on" : "live: bypass off");
        }
        if (key == 'n' || key == 'N') startLoad(+1);
        if (key == 'p' || key == 'P') startLoad(-1);
        if (apps::interruptRequested()) { stopReason = "Ctrl-C or a stop signal"; break; }
        if (!stream.running()) { failure = lostStream; break; }
        // This loop comes back every ~20 ms; much later means the whole process was paused (Ctrl-Z,
        // a debugger, a frozen container), which stopped the audio too: not a lost stream.
        if (const auto now = Clock::now(); now - lastLoop > std::chrono::milliseconds(500)) lastAdvance = now;
        lastLoop = Clock::now();
        if (const std::uint64_t f = status.frames(); f != lastFrames) {
            lastFrames = f;
            lastAdvance = Clock::now();
        } else if (f > 0 && Clock::now() - lastAdvance > std::chrono::seconds(1)) {
            failure = lostStream;
            break;
        }

        if (loading.valid() && loading.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
            try {
                waiting = loading.get();
            } catch (const std::exception& e) {
                screen.message(std::string("live: cannot switch to '") + loadingName + "': " + e.what() +
                               " (n/p go on past it)");
                folder.passOver(loadingPath);
            }
        }
        if (waiting.engine) {
            const std::string name = waiting.name;
            const fs::path path = waiting.path;
            if (slot->publish(waiting.engine)) { // the audio thread crossfades to it at its next block
                folder.select(path);
                modelName = name;
                waiting = LoadedEngine{};
                screen.message("live: model '" + name + "' (" + path.filename().string() + ")");
            }
        }
        slot->collect(); // frees engines the audio thread has retired

        const auto now = Clock::now();
        if (now >= nextStatus) {
            nextStatus = now + statusInterval;
            const StatusSnapshot s = status.take();
            std::ostringstream line;
            line << "in " << dbText(s.inputPeak) << " dB" << (s.inputPeak >= 1.0f ? " CLIP" : "     ") << " | out "
                 << dbText(s.outputPeak) << " dB" << (s.outputPeak >= 1.0f ? " CLIP" : "     ") << " | cpu " << std::setw(6)
                 << percent(s.loadLast) << " (max " << std::setw(6) << percent(s.loadMax) << ") | xruns " << s.xruns
                 << " | " << modelName << (processor->bypass() ? " [BYPASS]" : "");
            screen.status(line.str());
        }
        if (frameLimit && status.frames() >= frameLimit) { stopReason = "duration reached"; break; }
    }

    if (failure.empty()) {
        stream.stop();
        stream.close();
    } else {
        // A lost stream is never touched again: when JACK shut the client down, RtAudio closes it
        // from a thread of its own, and stopping or closing it here as well raced with that thread
        // (and blocks forever in libjack when the server is gone). Give that thread a moment, then
        // leave the stream to the process's exit.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        stream.abandon();
    }
    screen.endStatus();
    if (loading.valid()) loading.wait();
    slot->collect();

    const StatusSnapshot end = status.take();
    const LoadHistogram& h = processor->loadHistogram();
    std::ostringstream s;
    s << "live: stopped (" << (failure.empty() ? stopReason : "stream lost") << ") after " << std::fixed
      << std::setprecision(2) << static_cast<double>(end.frames) / rate << " s of audio, " << end.callbacks << " callbacks\n";
    s << "xruns: " << end.xruns << '\n';
    s << "callback load: median " << percent(h.quantile(0.5)) << ", 99.9th percentile " << percent(h.quantile(0.999))
      << ", max " << percent(h.max()) << " of the " << std::setprecision(3) << periodMs << " ms period\n";
    if (adapter && adapter->underruns() > 0)
        s << "warning: the resampling FIFO ran dry " << adapter->underruns() << " times (gaps in the output)\n";
    out << s.str();
    int code = 0;
    std::string recordErrors; // finish both before reporting: one failure must not delete the other take
    for (Recorder* r : {recorder.get(), inputRecorder.get()}) {
        if (!r) continue;
        try {
            r->finish();
        } catch (const LiveError& e) {
            recordErrors += (recordErrors.empty() ? "" : "; ") + std::string(e.what());
            continue;
        }
        out << "recorded: " << r->path() << " (" << r->framesWritten() << " frames, "
            << (r == recorder.get() ? o.outputChannels : o.inputChannels) << " ch, " << static_cast<int>(rate) << " Hz)\n";
        if (r->framesDropped() > 0) {
            out << "error: the recording " << r->path() << " lost " << r->framesDropped()
                << " frames (the disk could not keep up); the file has gaps\n";
            code = 1;
        }
    }
    out.flush();
    if (!failure.empty()) throw LiveError(failure + (recordErrors.empty() ? "" : "; " + recordErrors));
    if (!recordErrors.empty()) throw LiveError(recordErrors);
    return code;
}

} // namespace mfx::live
