// mfx_jack_player: a JACK client that plays a sound file (its first channel) once into whatever
// connects to its output port, for the live app's end-to-end test.
//
//   mfx_jack_player FILE [--client NAME] [--ready-file PATH] [--timeout SECONDS]
//
// The port "NAME:out" exists from the start (so `mambafx live --input-device NAME` finds it as a
// one-channel input device). Playback starts at the first period in which the port is connected and
// begins exactly at the start of that period; before and after the file the port outputs zeros. The
// player exits on SIGINT/SIGTERM, when the JACK server goes away, or after the timeout (default 120 s),
// and then prints how many xruns the server reported while it ran (the machine's noise, whoever
// caused them).
// The server is the default one or $JACK_DEFAULT_SERVER.
#include <jack/jack.h>
#include <sndfile.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> gStop{false};
extern "C" void onSignal(int) { gStop.store(true); }

struct Player {
    jack_client_t* client = nullptr;
    jack_port_t* port = nullptr;
    std::vector<float> samples;  // (frames) the file's first channel
    std::size_t pos = 0;         // process thread only
    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};
    std::atomic<jack_nframes_t> startFrame{0};
    std::atomic<int> xruns{0}; // server-wide xruns, as JACK reports them to every client
};

int onXrun(void* arg) {
    static_cast<Player*>(arg)->xruns.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

int process(jack_nframes_t n, void* arg) {
    auto* p = static_cast<Player*>(arg);
    auto* out = static_cast<float*>(jack_port_get_buffer(p->port, n));
    if (!p->started.load(std::memory_order_relaxed) && jack_port_connected(p->port) > 0) {
        p->startFrame.store(jack_last_frame_time(p->client), std::memory_order_relaxed);
        p->started.store(true, std::memory_order_release);
    }
    for (jack_nframes_t i = 0; i < n; ++i) {
        float v = 0.0f;
        if (p->started.load(std::memory_order_relaxed) && p->pos < p->samples.size()) v = p->samples[p->pos++];
        out[i] = v;
    }
    if (p->started.load(std::memory_order_relaxed) && p->pos >= p->samples.size())
        p->finished.store(true, std::memory_order_release);
    return 0;
}

void onShutdown(void*) { gStop.store(true); }

} // namespace

int main(int argc, char** argv) {
    std::string file, clientName = "mfxplayer", readyFile;
    double timeout = 120.0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--client" && i + 1 < argc) clientName = argv[++i];
        else if (a == "--ready-file" && i + 1 < argc) readyFile = argv[++i];
        else if (a == "--timeout" && i + 1 < argc) timeout = std::stod(argv[++i]);
        else if (file.empty() && a.rfind("--", 0) != 0) file = a;
        else {
            std::fprintf(stderr, "usage: mfx_jack_player FILE [--client NAME] [--ready-file PATH] [--timeout S]\n");
            return 2;
        }
    }
    if (file.empty()) {
        std::fprintf(stderr, "mfx_jack_player: no file given\n");
        return 2;
    }

    Player player;
    SF_INFO info{};
    SNDFILE* f = sf_open(file.c_str(), SFM_READ, &info);
    if (!f) {
        std::fprintf(stderr, "mfx_jack_player: cannot read %s: %s\n", file.c_str(), sf_strerror(nullptr));
        return 1;
    }
    std::vector<float> all(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
    sf_readf_float(f, all.data(), info.frames);
    sf_close(f);
    player.samples.resize(static_cast<std::size_t>(info.frames));
    for (std::size_t i = 0; i < player.samples.size(); ++i) player.samples[i] = all[i * static_cast<std::size_t>(info.channels)];

    jack_status_t status{};
    jack_client_t* client = jack_client_open(clientName.c_str(), JackNoStartServer, &status);
    if (!client) {
        std::fprintf(stderr, "mfx_jack_player: cannot connect to the JACK server (status 0x%x)\n", static_cast<unsigned>(status));
        return 1;
    }
    if (static_cast<int>(jack_get_sample_rate(client)) != info.samplerate)
        std::fprintf(stderr, "mfx_jack_player: note: file at %d Hz, server at %u Hz (played unchanged)\n", info.samplerate,
                     jack_get_sample_rate(client));
    player.client = client;
    player.port = jack_port_register(client, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    if (!player.port) {
        std::fprintf(stderr, "mfx_jack_player: cannot register a port\n");
        jack_client_close(client);
        return 1;
    }
    jack_set_process_callback(client, process, &player);
    jack_on_shutdown(client, onShutdown, nullptr);
    jack_set_xrun_callback(client, onXrun, &player);
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    if (jack_activate(client) != 0) {
        std::fprintf(stderr, "mfx_jack_player: cannot activate the client\n");
        jack_client_close(client);
        return 1;
    }
    std::printf("mfx_jack_player: %s:out ready, %zu frames from %s\n", jack_get_client_name(client), player.samples.size(),
                file.c_str());
    std::fflush(stdout);
    if (!readyFile.empty()) std::ofstream(readyFile) << "ready\n";

    const auto t0 = std::chrono::steady_clock::now();
    bool reportedStart = false, reportedEnd = false;
    while (!gStop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (!reportedStart && player.started.load(std::memory_order_acquire)) {
            std::printf("mfx_jack_player: started at JACK frame %u\n", player.startFrame.load());
            std::fflush(stdout);
            reportedStart = true;
        }
        if (!reportedEnd && player.finished.load(std::memory_order_acquire)) {
            std::printf("mfx_jack_player: file finished\n");
            std::fflush(stdout);
            reportedEnd = true;
        }
        if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout) {
            std::fprintf(stderr, "mfx_jack_player: timeout\n");
            break;
        }
    }
    jack_deactivate(client);
    jack_client_close(client);
    std::printf("mfx_jack_player: server xruns while playing: %d\n", player.xruns.load());
    return 0;
}
