#!/usr/bin/env bash
# Create .venv and install seedqa into it, offline-safe.
#   scripts/setup.sh          the assistant
#   scripts/setup.sh --test   the assistant, the test tools, and headless Chromium
# torch is installed first and pinned to 2.13.0 (the CPU build this machine
# keeps on disk); a resolver left to pick torch freely pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "seedqa needs Python 3.11 (found: $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install "torch==2.13.0"
if [ "${1:-}" = "--test" ]; then
    # The test tools include llama-cpp-python, built from source the first time
    # (about 10 minutes on 2 cores); pip keeps the built wheel in its cache.
    # llama.cpp builds for the very CPU it is built on by default (-march=native), and
    # that build crashed (segmentation fault) in its first decode on a Xeon with AVX-512
    # and AMX here: build for a portable baseline instead, unless CMAKE_ARGS says otherwise.
    if [ -z "${CMAKE_ARGS:-}" ]; then
        case "$(uname -m)" in
            x86_64) export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" ;;
            *) export CMAKE_ARGS="-DGGML_NATIVE=OFF" ;;
        esac
    fi
    "${pip[@]}" install -e ".[test]"
    bash scripts/install_browser.sh
else
    "${pip[@]}" install -e .
fi
echo "seedqa is installed in .venv: run .venv/bin/seedqa --help"
