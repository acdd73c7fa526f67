#!/bin/sh
# The live app's callback load in a real JACK stream, at 32, 64 and 128 frames:
# for each period, start a private `jackd -d dummy` (no audio hardware needed; run as root or with
# real-time rights), play a guitar-like file into `mambafx live` with mfx_jack_player for SECONDS
# (default 60), and print the app's summary (xruns; callback load median / 99.9th percentile / max).
#
#   Tests/Live/bench_jack.sh BUILD_DIR [SECONDS] [MODEL]
set -eu
BUILD=${1:?usage: bench_jack.sh BUILD_DIR [SECONDS] [MODEL]}
SECONDS_RUN=${2:-60}
MODEL=${3:-}
MAMBAFX="$BUILD/Source/Apps/mambafx"
PLAYER="$BUILD/Tests/Live/mfx_jack_player"
WORK=$(mktemp -d)
JACKD_PID=""
PLAYER_PID=""
cleanup() {
    [ -n "$PLAYER_PID" ] && kill "$PLAYER_PID" 2>/dev/null || true
    [ -n "$JACKD_PID" ] && kill "$JACKD_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Input: plucked notes (sox) as long as the run.
sox -n -r 48000 -c 1 -b 32 -e floating-point "$WORK/in.wav" synth 0.5 pluck A2 pluck E3 pluck A3 pluck C4 \
    repeat $((SECONDS_RUN * 2)) gain -6 2>/dev/null

export JACK_DEFAULT_SERVER="mfxbench-$$"
for PERIOD in 32 64 128; do
    jackd -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p "$PERIOD" >"$WORK/jackd-$PERIOD.log" 2>&1 &
    JACKD_PID=$!
    sleep 2
    rm -f "$WORK/ready"
    "$PLAYER" "$WORK/in.wav" --client mfxplayer --ready-file "$WORK/ready" --timeout $((SECONDS_RUN + 60)) \
        >"$WORK/player-$PERIOD.log" 2>&1 &
    PLAYER_PID=$!
    while [ ! -f "$WORK/ready" ]; do sleep 0.1; done
    echo "== jackd -d dummy -r 48000 -p $PERIOD, $SECONDS_RUN s"
    "$MAMBAFX" live --api jack --input-device mfxplayer --output-device system --buffer "$PERIOD" \
        --duration "$SECONDS_RUN" ${MODEL:+--model "$MODEL"} 2>&1 | grep -E "^(live: (Jack|stream|real-time|model)|xruns|callback load)"
    kill "$PLAYER_PID"; wait "$PLAYER_PID" 2>/dev/null || true; PLAYER_PID=""
    grep "server xruns" "$WORK/player-$PERIOD.log" || true
    kill "$JACKD_PID"; wait "$JACKD_PID" 2>/dev/null || true; JACKD_PID=""
    sleep 1
done
