#!/usr/bin/env bash
# Runs the app in a window; on a Linux machine with no display, under a virtual X server instead (and says so).
# macOS and Windows always have a screen (Quartz, the Windows desktop) and no DISPLAY: the app runs directly.
set -euo pipefail

# Prints "native" or "xvfb" for a system name (uname -s) and the display variables; tests call it on its own.
screen_for() {
  local system="$1" display="$2" wayland="$3"
  case "$system" in
    Linux|*BSD|SunOS) ;;          # X11 or Wayland: a screen only when a display is named
    *) echo native; return ;;     # Darwin, MINGW*/MSYS*/CYGWIN* (Git Bash on Windows) and the rest
  esac
  if [ -n "$display" ] || [ -n "$wayland" ]; then echo native; else echo xvfb; fi
}

if [ "${1:-}" = "--screen-for" ]; then
  screen_for "${2:-}" "${3:-}" "${4:-}"
  exit 0
fi

if [ "$(screen_for "$(uname -s)" "${DISPLAY:-}" "${WAYLAND_DISPLAY:-}")" = xvfb ]; then
  if ! command -v xvfb-run >/dev/null; then
    echo "No display found (DISPLAY and WAYLAND_DISPLAY are unset) and xvfb-run is not installed:" >&2
    echo "run this from a desktop session or 'ssh -X', or install Xvfb (tools/qt-system-deps.sh)." >&2
    exit 1
  fi
  echo "No display found (DISPLAY is unset): starting ConvScope on a virtual screen (Xvfb)." >&2
  echo "Use a desktop session or 'ssh -X' to see the window; Ctrl-C to quit." >&2
  exec xvfb-run -a -s "-screen 0 1600x1000x24" "$@"
fi
exec "$@"
