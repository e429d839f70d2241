#!/usr/bin/env bash
# Installs the Debian packages `make build`, `make check` and `make demo` need,
# but only those missing, and only when run as root (CI and fresh machines start
# bare). As an ordinary user it lists what is missing and carries on.
set -euo pipefail

# What building needs (headers found through pkg-config) and what the tests and
# the demo drive for real: newuidmap, Xvfb, PulseAudio, X clients, bridges, pasta.
# (No libX11, libXau or libpulse: X11 and PulseAudio are spoken in Swift.)
build_pkgs=(pkg-config libcap-dev libseccomp-dev)
run_pkgs=(uidmap iproute2 passt nftables)
# the session bus mediator (dbus.mode = "filtered", the gui fragment)
run_pkgs+=(xdg-dbus-proxy)
test_pkgs=(xvfb xauth x11-apps x11-utils x11-xserver-utils xdotool pulseaudio pulseaudio-utils sox python3-minimal imagemagick
           desktop-file-utils mmdebstrap clang libclang-rt-14-dev util-linux procps psmisc)
# net tests: python3 (TCP servers, an fcntl lock holder), binutils (readelf on the setuid helper)
test_pkgs+=(python3 binutils)
# dbus-x11 (dbus-launch) makes programs without a session bus autolaunch one on
# the X display, as on every Debian desktop: the suite must pass with it installed.
test_pkgs+=(dbus-x11)
# image keys and the walkthroughs: gpg reads and pins keys (create needs it for
# image.keys), a vendor repository is signed and indexed, and served over TLS
test_pkgs+=(gpg apt-utils openssl)
# the browsers' own sandboxes inside the shipped firefox and chromium profiles
test_pkgs+=(firefox-esr chromium)
# sound mediator tests: the same attacks against pipewire-pulse, on its own session bus
test_pkgs+=(pipewire pipewire-pulse wireplumber dbus-daemon)
# bus and portal tests: real services on a test bus (python3-gi), notify-send and
# gdbus inside, xdg-desktop-portal with its gtk backend and the document portal (FUSE)
test_pkgs+=(libnotify-bin libglib2.0-bin python3-gi gir1.2-glib-2.0 xdg-desktop-portal xdg-desktop-portal-gtk fuse3)
# file hand-over: the launcher started by gtk-launch, as a file manager does
test_pkgs+=(libgtk-3-bin)
# packaging tests: the completions in each shell, the AppArmor profile (parsers), dpkg-deb/dpkg-architecture
test_pkgs+=(bash-completion zsh fish apparmor dpkg-dev)

# `make deb` and its test (Tests/Package/deb.sh): the Debian tooling, lintian,
# and AppArmor's parser for the profile check (the kernel need not run AppArmor).
deb_pkgs=(debhelper dpkg-dev lintian apparmor bash-completion zsh fish)

# the app catalog's make-check subset (Tests/Integration/apps.test.sh): three
# cheap real apps, and python3-xlib to find and close their windows
test_pkgs+=(python3-xlib xterm mousepad zathura)
# an account only a directory service knows, for the static launcher (accounts.test.sh)
test_pkgs+=(libnss-extrausers libnss-systemd)
# the public toml-test suite (tests/valid, tests/invalid) for the TOML parser: Tests/TOML/run.sh
test_pkgs+=(golang-github-burntsushi-toml-dev)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
case "${1:-}" in
  --deb) want+=("${deb_pkgs[@]}") ;;
  --test) want+=("${test_pkgs[@]}") ;;
  --bench) want+=("${test_pkgs[@]}" hyperfine bubblewrap firejail) ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages (run as root to install): ${missing[*]}" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package lists are empty on a fresh machine; one update is enough.
if [ ! -e /var/lib/apt/lists/lock ] || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit)" ]; then
  apt-get update -q
fi
# Wait for another apt (unattended-upgrades, a second install) rather than fail on its lock.
lock=(-o DPkg::Lock::Timeout=600)
apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}" \
  || { apt-get "${lock[@]}" update -q && apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}"; }
