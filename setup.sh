#!/usr/bin/env bash
# Install everything Soundstar needs on a fresh Debian/Ubuntu machine with Python 3.11:
# system packages (when missing), a virtual environment in .venv, and the package itself.
#   ./setup.sh          the runtime (enough to render tracks)
#   ./setup.sh --dev    also the test, lint and analysis tools
set -euo pipefail
cd "$(dirname "$0")"

extras=""
dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) extras="[dev]"; dev=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python_bin="$candidate"; break; fi
  done
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "setup.sh: need root (or sudo) to run: $*" >&2; exit 1; fi
}

apt_packages=()
if [ -z "$python_bin" ]; then apt_packages+=(python3 python3-venv python3-dev); python_bin=python3; fi
if ! "$python_bin" -c 'import ensurepip, venv' >/dev/null 2>&1; then apt_packages+=(python3-venv); fi
if ! command -v gcc >/dev/null 2>&1; then apt_packages+=(build-essential); fi
# The General MIDI SoundFont the sampler plays acoustic instruments from (FluidR3, MIT).
if [ ! -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ]; then apt_packages+=(fluid-soundfont-gm); fi
# The sampler's library (tinysoundfont) requires pyaudio, which builds against portaudio
# and the interpreter's headers.
if [ ! -f /usr/include/portaudio.h ]; then apt_packages+=(portaudio19-dev); fi
if [ -n "$python_bin" ] && command -v "$python_bin" >/dev/null 2>&1 \
  && ! "$python_bin" -c 'import os, sysconfig, sys; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; then
  apt_packages+=(python3-dev)
fi
# The browser tests drive Debian's chromium; the speed benchmark compares against the fluidsynth CLI.
if [ "$dev" -eq 1 ] && ! command -v chromium >/dev/null 2>&1; then apt_packages+=(chromium); fi
if [ "$dev" -eq 1 ] && ! command -v fluidsynth >/dev/null 2>&1; then apt_packages+=(fluidsynth); fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: installing system packages: ${apt_packages[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${apt_packages[@]}"
  else
    echo "setup.sh: please install: ${apt_packages[*]}" >&2; exit 1
  fi
fi

if ! "$python_bin" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup.sh: Soundstar needs Python 3.11 or newer ($python_bin is $("$python_bin" --version 2>&1))" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${extras}"
if [ "$dev" -eq 1 ]; then
  # torch is optional (the RAVE codec); only the CPU build is wanted, so only a local CPU wheel is used.
  torch_wheel=$(ls /opt/wheels/torch-2.13.0+cpu-*.whl 2>/dev/null | head -n 1 || true)
  if [ -n "$torch_wheel" ]; then
    .venv/bin/python -m pip install --quiet "$torch_wheel"
  else
    echo "setup.sh: no CPU torch 2.13.0 wheel in /opt/wheels; the RAVE tests will be skipped"
  fi
fi
echo "setup.sh: ready — run .venv/bin/soundstar --help"
