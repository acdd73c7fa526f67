#!/bin/bash
# The MambaFX Standalone against a JACK server with the dummy driver: it starts, passes audio (a tone
# from jack_metro goes in, its output is recorded with jack_rec and must be non-silent and finite),
# and quits cleanly on SIGINT and on SIGTERM (exit status 0), keeping its plugin state in its settings.
#   usage: standalone_test.sh PATH/TO/MambaFX [seconds-to-record]
# Needs: jackd2 (jackd, jack_wait, jack_lsp, jack_connect, jack_metro, jack_rec), xvfb (xvfb-run), sox.
# Runs on a private JACK server name and a scratch HOME, so it touches nothing of the user's.
set -u
standalone=$1
seconds=${2:-3}

if [ -z "${DISPLAY:-}" ]; then
    exec xvfb-run -a -s "-screen 0 1280x1024x24" "$0" "$@"
fi

work=$(mktemp -d /tmp/mfx-standalone.XXXXXX)
export HOME=$work
# A fixed name (not per process): JACK reclaims a registry entry left by a dead server only for the
# same name, and has room for 8 (see Tests/Live/JackServer.h).
export JACK_DEFAULT_SERVER=mfx-test-plugin-standalone
export JACK_NO_AUDIO_RESERVATION=1
jack_pid=
app_pid=
metro_pid=
cleanup() {
    for pid in $metro_pid $app_pid $jack_pid; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "standalone test: FAIL: $*"; [ -f "$work/app.log" ] && tail -20 "$work/app.log"; exit 1; }

jackd --no-realtime -d dummy -r 48000 -p 128 >"$work/jackd.log" 2>&1 &
jack_pid=$!
jack_wait -w -t 15 >/dev/null 2>&1 || fail "jackd did not start: $(tail -5 "$work/jackd.log")"

# The Standalone's audio settings: JACK, the dummy's "system" ports, input not muted.
write_settings() {
    mkdir -p "$HOME/.config"
    cat >"$HOME/.config/MambaFX.settings" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>

<PROPERTIES>
  <VALUE name="audioSetup">
    <DEVICESETUP deviceType="JACK" audioOutputDeviceName="system" audioInputDeviceName="system"
                 audioDeviceRate="48000.0" audioDeviceBufferSize="128"/>
  </VALUE>
  <VALUE name="shouldMuteInput" val="0"/>
</PROPERTIES>
XML
}
start_app() {
    "$standalone" >"$work/app.log" 2>&1 &
    app_pid=$!
    for _ in $(seq 1 60); do
        jack_lsp 2>/dev/null | grep -q '^MambaFX:out_1$' && break
        kill -0 "$app_pid" 2>/dev/null || fail "the Standalone exited early"
        sleep 0.5
    done
    jack_lsp 2>/dev/null | grep -q '^MambaFX:in_1$' || fail "no MambaFX JACK ports (ports: $(jack_lsp | tr '\n' ' '))"
}
write_settings
start_app

jack_metro -n tone -b 240 -f 440 -A 0.5 -D 120 >/dev/null 2>&1 &
metro_pid=$!
for _ in $(seq 1 20); do jack_lsp 2>/dev/null | grep -q '^tone:' && break; sleep 0.25; done
tone_port=$(jack_lsp | grep '^tone:' | head -1)
[ -n "$tone_port" ] || fail "jack_metro did not start"
jack_connect "$tone_port" MambaFX:in_1 || fail "cannot connect the tone to MambaFX:in_1"
jack_connect "$tone_port" MambaFX:in_2 || fail "cannot connect the tone to MambaFX:in_2"

jack_rec -f "$work/out.wav" -d "$seconds" MambaFX:out_1 MambaFX:out_2 >/dev/null 2>&1 || fail "jack_rec failed"

stats=$(sox "$work/out.wav" -n stat 2>&1)
rms=$(echo "$stats" | awk '/RMS +amplitude/ {print $3}')
maxamp=$(echo "$stats" | awk '/Maximum amplitude/ {print $3}')
echo "standalone output: RMS $rms, peak $maxamp over ${seconds} s"
awk -v r="$rms" 'BEGIN { exit !(r > 0.001 && r < 100) }' || fail "the output is silent or not finite (RMS $rms)"

# Quitting on a signal keeps the plugin state (model, knobs) as closing the window does: the
# settings file then holds "filterState" (JUCE's own SIGINT handling saved only the audio settings,
# and SIGTERM nothing).
quit_with() {
    kill -"$1" "$app_pid"
    for _ in $(seq 1 40); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$app_pid" 2>/dev/null; then fail "the Standalone did not quit within 10 s of SIG$1"; fi
    wait "$app_pid"
    status=$?
    app_pid=
    [ "$status" -eq 0 ] || fail "the Standalone exited with status $status after SIG$1"
    # the plugin state as base64: parameters and the model's identity, hundreds of characters
    saved=$(grep -o 'name="filterState" val="[^"]*"' "$HOME/.config/MambaFX.settings" | wc -c)
    [ "$saved" -gt 200 ] ||
        fail "after SIG$1 the settings hold no plugin state: $(head -c 600 "$HOME/.config/MambaFX.settings")"
}
quit_with INT

# Again with SIGTERM, from settings without a saved plugin state.
write_settings
start_app
quit_with TERM
echo "standalone test: PASS (started under JACK dummy, passed audio, quit cleanly on SIGINT and SIGTERM keeping its state)"
