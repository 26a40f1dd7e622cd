#!/usr/bin/env bash
# llama.cpp's `llama-server` for the tests, built once from the llama.cpp source that PyPI's
# llama-cpp-python sdist vendors (pinned in versions.json), and a venv with PyPI's `gguf` to write the
# tiny test models. Both are cached by version under ${TINYV_CACHE:-$HOME/.cache/tinyv} and rebuilt
# only when missing. The build is as lean as llama-server allows: that one target, CPU only, no TLS,
# no web UI, no tests or examples.
#   bash scripts/llama/build.sh          # prints the two paths
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$here/versions.json" "$1"; }
LLAMA_VERSION="$(version llama-cpp-python)"
GGUF_VERSION="$(version gguf)"
CACHE="${TINYV_CACHE:-$HOME/.cache/tinyv}"
DEST="$CACHE/llama.cpp-$LLAMA_VERSION"
VENV="$CACHE/gguf-$GGUF_VERSION"
mkdir -p "$CACHE"

# The compilers, when a fresh machine lacks them (CI runs as root on Debian 12).
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || command -v ninja >/dev/null || need+=(make)
if [ ${#need[@]} -gt 0 ] && [ ! -x "$DEST/bin/llama-server" ]; then
  apt-get update -qq && apt-get install -y --no-install-recommends "${need[@]}"
fi

build_server() {
  local work
  work="$(mktemp -d "$CACHE/llama.cpp-build.XXXXXX")"
  trap "rm -rf '$work'" EXIT
  echo "building llama-server from llama-cpp-python $LLAMA_VERSION's vendored llama.cpp (once; cached in $DEST)"
  local t0=$SECONDS
  python3 -m pip download --quiet --no-binary :all: --no-deps --dest "$work" "llama-cpp-python==$LLAMA_VERSION"
  tar -xzf "$work/llama_cpp_python-$LLAMA_VERSION.tar.gz" -C "$work" "llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
  local src="$work/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
  echo "  source fetched in $((SECONDS - t0)) s"
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S "$src" -B "$work/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
    -DGGML_NATIVE=ON -DGGML_OPENMP=OFF -DGGML_LLAMAFILE=OFF -DGGML_BLAS=OFF -DGGML_CCACHE=OFF \
    >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" 2>&1 ||
    { tail -50 "$work/build.log"; exit 1; }
  mkdir -p "$work/out/bin"
  cp "$work/build/bin/llama-server" "$work/out/bin/"
  rm -rf "$DEST"
  mv "$work/out" "$DEST"
  echo "  built in $((SECONDS - t0)) s: $DEST/bin/llama-server"
}

build_venv() {
  echo "installing gguf $GGUF_VERSION into $VENV (once)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" 2>/dev/null || {
    rm -rf "$VENV"
    apt-get update -qq && apt-get install -y --no-install-recommends python3-venv
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "gguf==$GGUF_VERSION"
}

# One build at a time, whoever asks (two test runs, say).
exec 9>"$CACHE/.llama-build.lock"
flock 9
[ -x "$DEST/bin/llama-server" ] || build_server
[ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import gguf" 2>/dev/null || build_venv
echo "llama-server: $DEST/bin/llama-server"
echo "gguf python:  $VENV/bin/python"
