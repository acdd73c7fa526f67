#!/usr/bin/env bash
# MambaFX set-up on Debian 12: installs the Debian packages that are missing, configures and builds
# (Release, ccache), then either renders the demo audio through the bundled default model, or
# (with --test) runs the whole test suite.
#
#   scripts/setup.sh          # install, build, render Resources/Audio/demo-guitar-di.flac -> build/demo/
#   scripts/setup.sh --test   # install, build, run every test (ctest)
#
# Environment: MFX_BUILD_DIR (default build), MFX_CMAKE_ARGS (extra configure flags, e.g.
# "-DMFX_BUILD_PLUGIN=OFF -DMFX_CUDA=OFF"), MFX_JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=run
case "${1:-}" in
    "") ;;
    --test) mode=test ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1' (use --test or nothing)" >&2; exit 2 ;;
esac

build=${MFX_BUILD_DIR:-build}
# ccache keys on paths relative to the checkout, so clones in other folders (CI) share the cache
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=true
jobs=${MFX_JOBS:-$(nproc)}

# --- packages (Debian 12) ---------------------------------------------------------------------
packages=(
    # toolchain and core
    build-essential cmake ninja-build ccache pkg-config git
    libhwy-dev nlohmann-json3-dev libsamplerate0-dev libkissfft-dev
    # command-line app and tests
    libsndfile1-dev libcli11-dev catch2 sox
    # benchmarks: the NAM WaveNet reference (Tests/Bench)
    libeigen3-dev
    # plugin (Debian's JUCE 7.0.5 and what its GUI/audio modules need; see ../shared/notes/debian-juce.md)
    juce-modules-source juce-tools libx11-dev libxrandr-dev libxinerama-dev libxcursor-dev libxext-dev
    libfreetype-dev libfontconfig1-dev libasound2-dev libflac-dev libvorbis-dev libogg-dev libpng-dev libjpeg-dev
    xvfb xauth
    # live app: jackd2 must come in the same command as librtaudio-dev, or apt removes the latter
    librtaudio-dev jackd2 libjack-jackd2-dev
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "==> installing ${#missing[@]} missing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # jackd2 asks whether to enable real-time scheduling; answer for it
    echo "jackd2 jackd/tweak_rt_limits boolean false" | $sudo debconf-set-selections 2>/dev/null || true
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "==> all Debian packages present"
fi

# --- build ------------------------------------------------------------------------------------
echo "==> configuring ($build, Release)"
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${MFX_CMAKE_ARGS:-}
echo "==> building with $jobs jobs"
cmake --build "$build" -j "$jobs"

# --- run --------------------------------------------------------------------------------------
if [ "$mode" = run ]; then
    mkdir -p "$build/demo"
    out="$build/demo/demo-guitar-default-model.flac"
    echo "==> rendering Resources/Audio/demo-guitar-di.flac through the default model -> $out"
    "$build/Source/Apps/mambafx" render --overwrite --progress Resources/Audio/demo-guitar-di.flac -o "$out"
    "$build/Source/Apps/mambafx" info Resources/Models/default.safetensors | head -n 4
    echo "==> done: listen to $out"
else
    echo "==> running the tests"
    ctest --test-dir "$build" --output-on-failure --timeout 1500
fi
