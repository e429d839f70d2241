# The walkthroughs of Docs/walkthroughs.md, offline: a vendor's apt repository
# served over https on loopback (signed with a key the test makes), its key
# fetched and checked against the pinned fingerprint by `sandbox create`, the
# app installed into a fresh Debian image, and a click on the generated
# launcher; a multiarch (amd64+i386) image whose i386 program runs under the
# i386 seccomp ABI only where the profile allows it.

wt_root() { echo "$IT_STATE/vendor"; }
wt_gpg() { gpg --homedir "$(wt_root)/gnupg" --batch --no-tty --quiet "$@"; }
wt_fpr() { wt_gpg --with-colons --list-keys "$1" | awk -F: '$1 == "fpr" { print $10; exit }'; }
wt_data() { echo "$(it_home)/.local/share/sandbox/$1"; }

# The vendor: two signing keys (theirs, and one nobody pinned), a flat apt
# repository with one app signed by their key, and a TLS certificate for
# 127.0.0.1 that apt trusts through APT_CONFIG (as a company CA would be).
wt_vendor() {
  local v; v=$(wt_root)
  # Made once per IT_STATE, and again whenever this function changes.
  local stamp; stamp=$(declare -f wt_vendor | sha256sum | cut -c1-16)
  [ "$(cat "$v/ready" 2>/dev/null)" = "$stamp" ] && return 0
  rm -rf "$v"; mkdir -p "$v/gnupg" "$v/www/repo" "$v/tls" "$v/pkg"
  chmod 700 "$v/gnupg"
  wt_gpg --passphrase '' --quick-gen-key 'Example Vendor <repo@vendor.invalid>' ed25519 sign never || return 1
  wt_gpg --passphrase '' --quick-gen-key 'Someone Else <keys@other.invalid>' ed25519 sign never || return 1
  wt_gpg --armor --export repo@vendor.invalid >"$v/www/vendor.pub"
  wt_gpg --armor --export keys@other.invalid >"$v/www/other.pub"
  # A vendor file with an extra key: only the pinned one may reach the image.
  wt_gpg --armor --export >"$v/www/both.pub"
  # The app: an X client (xclock, from Debian's x11-apps) under the vendor's name.
  local root="$v/pkg/vendor-browser"
  mkdir -p "$root/DEBIAN" "$root/usr/bin"
  cat >"$root/DEBIAN/control" <<EOF
Package: vendor-browser
Version: 2.0
Architecture: all
Depends: x11-apps
Maintainer: Example Vendor <repo@vendor.invalid>
Description: a vendor's app, for the sandbox walkthrough test
EOF
  printf '#!/bin/sh\necho "vendor-browser as $(id -u)"\nexec xclock -title vendor-browser-window "$@"\n' >"$root/usr/bin/vendor-browser"
  chmod 755 "$root/usr/bin/vendor-browser"
  dpkg-deb --root-owner-group --build "$root" "$v/www/repo/vendor-browser_2.0_all.deb" >/dev/null || return 1
  # A chat client: records the microphone (the null sink's monitor here) through libpulse's tools.
  root="$v/pkg/vendor-chat"
  mkdir -p "$root/DEBIAN" "$root/usr/bin"
  cat >"$root/DEBIAN/control" <<EOF
Package: vendor-chat
Version: 5.1
Architecture: all
Depends: pulseaudio-utils
Maintainer: Example Vendor <repo@vendor.invalid>
Description: a vendor's chat client, for the sandbox walkthrough test
EOF
  cat >"$root/usr/bin/vendor-chat" <<'EOF'
#!/bin/sh
# A call: a quarter of a second of the microphone.
bytes=$(timeout 5 parec -d "${1:-@DEFAULT_SOURCE@}" --latency-msec=50 --format=s16le --rate=8000 --channels=1 2>/tmp/parec.err | head -c 4000 | wc -c)
echo "vendor-chat recorded $bytes bytes"; cat /tmp/parec.err
EOF
  chmod 755 "$root/usr/bin/vendor-chat"
  dpkg-deb --root-owner-group --build "$root" "$v/www/repo/vendor-chat_5.1_all.deb" >/dev/null || return 1
  ( cd "$v/www/repo" && apt-ftparchive packages . >Packages && apt-ftparchive release . >Release \
      && wt_gpg --local-user repo@vendor.invalid --clearsign -o InRelease Release ) || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$v/tls/key.pem" -out "$v/tls/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || return 1
  printf 'Acquire::https::CaInfo "%s";\n' "$v/tls/cert.pem" >"$v/apt.conf"
  chmod -R a+rX "$v/www" "$v/tls" "$v/apt.conf"; chmod 755 "$v"
  echo "$stamp" >"$v/ready"
}

# Serves $(wt_root)/www over https on a free loopback port; prints the port.
wt_serve() {
  local v; v=$(wt_root)
  rm -f "$v/port"
  python3 - "$v" >"$v/server.log" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
v = sys.argv[1]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=v + "/www")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(v + "/tls/cert.pem", v + "/tls/key.pem")
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(v + "/port.partial", "w") as f:
    f.write(str(server.server_address[1]))
import os; os.rename(v + "/port.partial", v + "/port")
server.serve_forever()
PY
  echo $! >"$v/server.pid"
  local i; for i in $(seq 1 50); do [ -s "$v/port" ] && { cat "$v/port"; return 0; }; sleep 0.1; done
  cat "$v/server.log"; return 1
}
wt_stop_server() { kill "$(cat "$(wt_root)/server.pid" 2>/dev/null)" 2>/dev/null || true; }

# The google-chrome profile's shape: a Debian image with the vendor's
# repository and key. wt_profile NAME PORT KEYFILE PIN-FINGERPRINT...
wt_profile() {
  local name=$1 port=$2 keyfile=$3; shift 3
  local app=${WT_APP:-vendor-browser} sound=${WT_SOUND:-'mode = "none"'}
  local pins="" f; for f in "$@"; do pins+="${pins:+, }\"$f\""; done
  it_profile "$name" <<EOF
description = "A vendor's app from its own apt repository"
include = ["gui"]
command = ["$app"]
[rootfs]
mode = "image"
[home]
mode = "private"
[x11]
mode = "untrusted"
[pulse]
$sound
[image]
packages = ["$app"]
sources = ["deb [signed-by=/etc/apt/keyrings/$keyfile] https://127.0.0.1:$port/repo ./"]
keys = ["https://127.0.0.1:$port/$keyfile"]
key_fingerprints = [$pins]
[desktop]
name = "Vendor Browser (sandboxed)"
icon = "web-browser"
categories = ["Network", "WebBrowser"]
EOF
}

# create as the test user, with apt trusting the test CA (APT_CONFIG, as apt reads it).
wt_create() { IT_EXTRA_ENV="APT_CONFIG=$(wt_root)/apt.conf" sbx create "$@"; }

test_a_downloaded_key_is_refused_unless_its_fingerprint_is_pinned() {
  wt_vendor || fail "could not make the vendor repository"
  local port; port=$(wt_serve) || fail "https server did not start"
  trap 'wt_stop_server; rm -rf "$(wt_data wtpin)"' EXIT
  local vendor other; vendor=$(wt_fpr repo@vendor.invalid); other=$(wt_fpr keys@other.invalid)
  [ ${#vendor} -eq 40 ] && [ ${#other} -eq 40 ] || fail "no fingerprints: [$vendor] [$other]"
  # The key on the server is not the one pinned: nothing is built, nothing is left.
  local setup_before; setup_before=$(it_create_setup_dirs)
  wt_profile wtpin "$port" vendor.pub "$other"
  local rc=0 out; out=$(wt_create wtpin 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create accepted a key whose fingerprint is not pinned: $out"
  assert_contains "$out" "image.keys 'https://127.0.0.1:$port/vendor.pub' is not the pinned key"
  assert_contains "$out" "${vendor:0:4} ${vendor:4:4}"
  assert_not_contains "$out" "mmdebstrap"
  [ ! -e "$(wt_data wtpin)/rootfs" ] || fail "a rootfs was made"
  local left; left=$(comm -13 <(echo "$setup_before") <(it_create_setup_dirs))
  [ -z "$left" ] || fail "setup files left in /tmp: $left"
  # No pin at all: the profile itself is refused, by check and by create alike.
  wt_profile wtpin "$port" vendor.pub
  rc=0; out=$(sbx profile check wtpin 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "profile check accepted an unpinned https key"
  assert_contains "$out" "pins no fingerprint to check it against"
  rc=0; out=$(wt_create wtpin 2>&1) || rc=$?
  [ "$rc" -ne 0 ] && assert_contains "$out" "pins no fingerprint to check it against"
  # A key that is not there, and a server apt does not trust.
  wt_profile wtpin "$port" missing.pub "$vendor"
  rc=0; out=$(wt_create wtpin 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create went on without its key"
  assert_contains "$out" "could not be downloaded"
  assert_contains "$out" "404"
  wt_profile wtpin "$port" vendor.pub "$vendor"
  rc=0; out=$(sbx create wtpin 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "create trusted an unknown certificate"
  assert_contains "$out" "could not be downloaded"
  assert_contains "$out" "Certificate verification failed"
}

# Docs/walkthroughs.md, "A browser from its vendor's repository".
test_walkthrough_vendor_app_from_create_to_a_click_on_its_launcher() {
  wt_vendor || fail "could not make the vendor repository"
  local port; port=$(wt_serve) || fail "https server did not start"
  trap 'wt_stop_server; sbx stop wtapp >/dev/null 2>&1 || true; sbx desktop remove wtapp >/dev/null 2>&1 || true; sbx destroy --yes wtapp >/dev/null 2>&1 || true' EXIT
  local vendor other; vendor=$(wt_fpr repo@vendor.invalid); other=$(wt_fpr keys@other.invalid)
  # The vendor's key file carries a second key; only the pinned one is kept.
  wt_profile wtapp "$port" both.pub "$vendor"
  sbx profile check wtapp >/dev/null || fail "profile check failed"
  local out; out=$(wt_create wtapp 2>&1) || fail "create failed: $out"
  assert_contains "$out" "downloading the key https://127.0.0.1:$port/both.pub"
  assert_contains "$out" "matches image.key_fingerprints; leaving out its unpinned keys"
  local root; root="$(wt_data wtapp)/rootfs"
  [ -x "$root/usr/bin/vendor-browser" ] || fail "the vendor's app is not in the image"
  local inimage; inimage=$(gpg --batch --no-tty --quiet --homedir "$(mktemp -d)" --with-colons --show-keys "$root/etc/apt/keyrings/both.pub" \
                            | awk -F: 'p == "pub" && $1 == "fpr" { print $10 } { p = $1 }')
  assert_eq "$inimage" "$vendor" "primary keys in the image's keyring"
  assert_contains "$(cat "$root/etc/apt/sources.list.d/sandbox-image.list")" "https://127.0.0.1:$port/repo ./"
  # The launcher, and a click on it: the app's window appears on the desktop.
  sbx desktop install wtapp >/dev/null || fail "desktop install failed"
  local file; file="$(it_home)/.local/share/applications/sandbox-wtapp.desktop"
  assert_eq "$(grep '^Name=' "$file")" "Name=Vendor Browser (sandboxed)" "launcher name"
  local argv; mapfile -t argv < <(it_launcher_argv "$file" "")
  [ -z "${argv[-1]}" ] && unset 'argv[-1]'
  it_as_user "${argv[@]}" >"$IT_LOGS/wtapp.out" 2>&1 &
  local wid="" i
  for i in $(seq 1 150); do
    wid=$(it_as_user xdotool search --name '^vendor-browser-window$' 2>/dev/null | head -n1) || true
    [ -n "$wid" ] && break; sleep 0.1
  done
  [ -n "$wid" ] || fail "no window from the launcher: $(cat "$IT_LOGS/wtapp.out")"
  assert_contains "$(cat "$IT_LOGS/wtapp.out")" "vendor-browser as $(it_uid)"
  assert_contains "$(sbx list)" "wtapp"
  # Closing the window (as xkill does) ends the app, its session and the container.
  it_as_user xdotool windowkill "$wid" 2>/dev/null || true
  for i in $(seq 1 100); do sbx list | grep -q '^wtapp ' || break; sleep 0.1; done
  ! sbx list | grep -q '^wtapp ' || fail "the container outlived its window: $(sbx list)"
}

# Docs/walkthroughs.md, "Steam": a multiarch amd64+i386 image (as the steam
# profile's), and a 32-bit Debian program in it that runs only because the
# profile allows the i386 system-call ABI (seccomp.multiarch).
test_walkthrough_multiarch_image_runs_i386_programs_only_with_multiarch() {
  trap 'sbx destroy --yes wti386 >/dev/null 2>&1 || true' EXIT
  it_profile wti386 <<'EOF2'
description = "a 32-bit program in a multiarch image, as Steam's"
command = ["hello"]
[rootfs]
mode = "image"
[seccomp]
multiarch = true
[image]
foreign_architectures = ["i386"]
packages = ["hello:i386"]
EOF2
  local out; out=$(sbx create wti386 2>&1) || fail "create failed: $out"
  local root; root="$(wt_data wti386)/rootfs"
  assert_eq "$(od -An -tx1 -j4 -N1 "$root/usr/bin/hello" | tr -d ' ')" 01 "ELF class of /usr/bin/hello (01: 32-bit)"
  assert_contains "$(cat "$root/var/lib/dpkg/arch")" i386
  out=$(sbx run wti386 2>&1) || fail "the i386 program failed with multiarch: $out"
  assert_contains "$out" "Hello, world!"
  # The same image without the i386 ABI: the program's first system call is refused.
  it_profile wtnoi386 <<EOF2
description = "the same image without the i386 ABI"
command = ["hello"]
[rootfs]
mode = "image"
path = "$root"
EOF2
  local rc=0; out=$(sbx run wtnoi386 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "an i386 program ran without seccomp.multiarch: $out"
  assert_not_contains "$out" "Hello, world!"
}

# Docs/walkthroughs.md, "A chat client": the skype profile's shape, a vendor's
# chat app whose calls need the microphone, which the sound mediator grants only
# with pulse.microphone = true.
test_walkthrough_chat_client_records_only_with_the_microphone_on() {
  wt_vendor || fail "could not make the vendor repository"
  local port; port=$(wt_serve) || fail "https server did not start"
  trap 'wt_stop_server; sbx destroy --yes wtchat >/dev/null 2>&1 || true' EXIT
  local vendor; vendor=$(wt_fpr repo@vendor.invalid)
  WT_APP=vendor-chat WT_SOUND='microphone = true' wt_profile wtchat "$port" vendor.pub "$vendor"
  local out; out=$(wt_create wtchat 2>&1) || fail "create failed: $out"
  out=$(sbx run wtchat -- itnull.monitor 2>&1) || fail "the chat app failed: $out"
  echo "$out" | grep -q 'vendor-chat recorded [1-9][0-9]* bytes' || fail "nothing recorded with the microphone on: $out"
  # The same image with the microphone off (the default): the recording is refused.
  it_profile wtchatmute <<EOF2
include = ["gui"]
command = ["vendor-chat"]
[rootfs]
mode = "image"
path = "$(wt_data wtchat)/rootfs"
EOF2
  out=$(sbx run wtchatmute -- itnull.monitor 2>&1) || true
  assert_contains "$out" "vendor-chat recorded 0 bytes"
  assert_contains "$out" "the microphone is off for this app"
}
