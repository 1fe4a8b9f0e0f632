#!/usr/bin/env bash
# Makes the Python module of a build importable by Debian's /usr/bin/python3 (the interpreter
# python3-torch belongs to), without pip or network: writes a .pth file holding BUILD/python into
# Debian's site folder for local packages (/usr/local/lib/python3.X/dist-packages).
#   scripts/install-python.sh [BUILD_DIR]      (default: build; needs root or sudo)
# Without root, use PYTHONPATH=BUILD_DIR/python instead.
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(cd "${1:-build}" && pwd)"
if ! ls "$build"/python/physgen/_physgen*.so > /dev/null 2>&1; then
  echo "install-python: no module in $build/python/physgen (build the _physgen target first)" >&2
  exit 1
fi
site="$(/usr/bin/python3 -c 'import sys; print(f"/usr/local/lib/python3.{sys.version_info.minor}/dist-packages")')"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO mkdir -p "$site"
echo "$build/python" | $SUDO tee "$site/physgen.pth" > /dev/null
/usr/bin/python3 -c 'import physgen; print("install-python: import physgen ->", physgen.__file__)'
