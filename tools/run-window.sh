#!/usr/bin/env bash
# Runs the app in a window; on a machine with no display, under a virtual X server instead (and says so).
set -euo pipefail
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found (DISPLAY is unset): starting ConvScope on a virtual screen (Xvfb)." >&2
  echo "Use a desktop session or 'ssh -X' to see the window; Ctrl-C to quit." >&2
  exec xvfb-run -a -s "-screen 0 1600x1000x24" "$@"
fi
exec "$@"
