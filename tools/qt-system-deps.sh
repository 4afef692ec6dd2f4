#!/usr/bin/env bash
# Installs the system libraries Qt's X11 (xcb) platform plugin needs for a real window, and Xvfb for
# machines without a screen. Does nothing when they are present; needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail
packages=(libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
          libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3
          fonts-dejavu-core xvfb xauth)
[ "$(uname -s)" = Linux ] || exit 0  # macOS and Windows: PySide6's wheels bring everything the window needs
command -v dpkg-query >/dev/null || { echo "note: not a Debian-based system; install Qt's xcb libraries yourself" >&2; exit 0; }
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages for the Qt window: ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
