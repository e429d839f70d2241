# The sound mediator (issue 9, escape 1): a real app inside a real container
# talks to the user's real sound server through the supervisor's filtering
# proxy, and tries what flatpak's and firejail's shared socket allow: loading
# a module (module-ladspa-sink runs the app's own .so inside the server),
# recording, changing the default sink, killing or moving another client's
# stream. Every attack runs against PulseAudio (lib.sh's server) and against
# pipewire-pulse (started here, as the test user, on its own session bus).

DS_TONE_SECONDS=30

ds_state() { echo "$(it_runtime)/sandbox/$1"; }

ds_scratch() {
  local d=$IT_STATE/ds-scratch
  mkdir -p "$d" && chown "$IT_USER:" "$d" && chmod 755 "$d"
  echo "$d"
}

# A long tone file the test user can read.
ds_tone() {
  local f; f="$(ds_scratch)/tone-long.wav"
  [ -s "$f" ] || sox -q -n -r 44100 -c 2 -b 16 "$f" synth $DS_TONE_SECONDS sine 440 gain -6
  chmod a+r "$f"
  echo "$f"
}

# pactl on the host, as the test user, against the server under test.
ds_pactl() { it_as_user pactl "$@"; }

# pipewire, wireplumber and pipewire-pulse as the test user, with their own
# XDG_RUNTIME_DIR and their own session bus (nothing autolaunches onto a shared
# one); a null sink "itnull" as the default. Sets IT_EXTRA_ENV to reach it.
ds_start_pipewire() {
  local dir; dir=$(ds_scratch)/pw
  ds_stop_pipewire
  rm -rf "$dir" && mkdir -p "$dir" && chown "$IT_USER:" "$dir" && chmod 700 "$dir"
  it_as_user env XDG_RUNTIME_DIR="$dir" DBUS_SESSION_BUS_ADDRESS="unix:path=$dir/bus" sh -c "
    cd '$dir'
    dbus-daemon --session --address=unix:path='$dir/bus' --nofork --nopidfile >'$dir/dbus.log' 2>&1 & echo \$! >>'$dir/pids'
    for i in \$(seq 1 50); do [ -S '$dir/bus' ] && break; sleep 0.1; done
    pipewire >'$dir/pipewire.log' 2>&1 & echo \$! >>'$dir/pids'
    for i in \$(seq 1 50); do [ -S '$dir/pipewire-0' ] && break; sleep 0.1; done
    wireplumber >'$dir/wireplumber.log' 2>&1 & echo \$! >>'$dir/pids'
    pipewire-pulse >'$dir/pipewire-pulse.log' 2>&1 & echo \$! >>'$dir/pids'
  "
  export IT_EXTRA_ENV="PULSE_SERVER=unix:$dir/pulse/native"
  local i
  for i in $(seq 1 100); do
    ds_pactl info >/dev/null 2>&1 && break
    sleep 0.1
  done
  ds_pactl info | grep -q "on PipeWire" || fail "pipewire-pulse did not come up: $(cat "$dir"/*.log)"
  ds_pactl load-module module-null-sink sink_name=itnull >/dev/null || fail "no null sink in pipewire-pulse"
  for i in $(seq 1 50); do
    ds_pactl set-default-sink itnull >/dev/null 2>&1 && ds_pactl list short sinks | grep -q itnull && return 0
    sleep 0.1
  done
  fail "pipewire-pulse has no itnull sink: $(ds_pactl list short sinks)"
}

ds_stop_pipewire() {
  local dir; dir=$(ds_scratch)/pw
  [ -f "$dir/pids" ] || return 0
  local p; for p in $(tac "$dir/pids"); do kill "$p" 2>/dev/null || true; done
  rm -f "$dir/pids"
}

# A host client playing a long tone; prints its sink input index.
ds_victim() {
  it_as_user sh -c "exec paplay --client-name=ds-victim '$(ds_tone)'" >/dev/null 2>&1 &
  echo $! >"$(ds_scratch)/victim.pid"
  local i idx
  for i in $(seq 1 50); do
    idx=$(ds_pactl list sink-inputs 2>/dev/null | awk '/^Sink Input #/ {i=substr($3,2)} /application.name = "ds-victim"/ {print i; exit}')
    [ -n "$idx" ] && { echo "$idx"; return 0; }
    sleep 0.1
  done
  fail "the host's victim stream did not appear: $(ds_pactl list short sink-inputs)"
}

ds_stop_victim() {
  local f; f="$(ds_scratch)/victim.pid"
  [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
  rm -f "$f"
  true
}

# RMS amplitude of a raw recording (s16le stereo 44.1 kHz).
ds_rms() {
  sox -t raw -r 44100 -e signed -b 16 -c 2 "$1" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}'
}

# The attack battery: NAME MICROPHONE. The app plays a tone (recorded on the
# host: must not be silence), then tries every refused operation; the host
# checks nothing changed.
ds_battery() {
  local name=$1 mic=$2 victim out mods_before default_before vol_before rec rms
  victim=$(ds_victim) || return 1
  mods_before=$(ds_pactl list short modules)
  default_before=$(ds_pactl get-default-sink)
  vol_before=$(ds_pactl get-sink-volume itnull)
  it_profile "$name" <<EOF2
command = ["sh", "-c", '''
pactl info >/dev/null; echo info=\$?
pactl list short sinks | grep -q itnull; echo sinks=\$?
sox -q -n -r 44100 -c 2 -b 16 -t wav - synth 2 sine 660 gain -6 | paplay; echo played=\$?
python3 -c "
import ctypes
# libpulse as an app uses it (Chrome, Firefox): a stream of its own, then the
# volume of that stream by its sink-input index, which the mediator must allow.
pa = ctypes.CDLL('libpulse.so.0')
vp, u32 = ctypes.c_void_p, ctypes.c_uint32
for name, res, args in [('pa_mainloop_new', vp, []), ('pa_mainloop_get_api', vp, [vp]),
        ('pa_context_new', vp, [vp, ctypes.c_char_p]), ('pa_context_connect', ctypes.c_int, [vp, vp, ctypes.c_int, vp]),
        ('pa_context_get_state', ctypes.c_int, [vp]), ('pa_mainloop_iterate', ctypes.c_int, [vp, ctypes.c_int, vp]),
        ('pa_stream_new', vp, [vp, ctypes.c_char_p, vp, vp]), ('pa_stream_connect_playback', ctypes.c_int, [vp, vp, vp, ctypes.c_int, vp, vp]),
        ('pa_stream_get_state', ctypes.c_int, [vp]), ('pa_stream_get_index', u32, [vp]),
        ('pa_context_set_sink_input_volume', vp, [vp, u32, vp, vp, vp])]:
    f = getattr(pa, name); f.restype = res; f.argtypes = args
ml = pa.pa_mainloop_new()
ctx = pa.pa_context_new(pa.pa_mainloop_get_api(ml), b'ds-own')
pa.pa_context_connect(ctx, None, 0, None)
def until(done):
    for _ in range(3000):
        if done(): return
        pa.pa_mainloop_iterate(ml, 1, None)
until(lambda: pa.pa_context_get_state(ctx) in (4, 5, 6))
class Spec(ctypes.Structure): _fields_ = [('format', ctypes.c_int), ('rate', u32), ('channels', ctypes.c_uint8)]
class Vol(ctypes.Structure): _fields_ = [('channels', ctypes.c_uint8), ('values', u32 * 32)]
spec = Spec(3, 44100, 2)
st = pa.pa_stream_new(ctx, b'own', ctypes.byref(spec), None)
pa.pa_stream_connect_playback(st, None, None, 0, None, None)
until(lambda: pa.pa_stream_get_state(st) in (2, 3, 4))
vol = Vol(); vol.channels = 2; vol.values[0] = vol.values[1] = 32768
got = []
Done = ctypes.CFUNCTYPE(None, vp, ctypes.c_int, vp)
done = Done(lambda c, ok, u: got.append(ok))
pa.pa_context_set_sink_input_volume(ctx, pa.pa_stream_get_index(st), ctypes.byref(vol), ctypes.cast(done, vp), None)
until(lambda: got)
print('ownvol=%s' % (got[0] if got else 'none'))
"
pactl load-module module-null-sink sink_name=ds_evil 2>&1; echo load=\$?
pactl load-module module-ladspa-sink sink_name=ds_ladspa plugin=/tmp/evil.so label=x 2>&1; echo ladspa=\$?
pactl set-default-sink auto_null 2>&1; echo default=\$?
python3 -c "
import os, socket, struct
# The native protocol by hand (pactl has no kill-sink-input): AUTH asking for
# SHM and memfd, then KILL_SINK_INPUT of the host's stream.
def u32(v): return b'L' + struct.pack('>I', v)
def send(s, payload): s.sendall(struct.pack('>IIIII', len(payload), 0xFFFFFFFF, 0, 0, 0) + payload)
def read(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit('kill=closed')
        b += c
    return b
def packet(s): return read(s, struct.unpack('>I', read(s, 20)[:4])[0])
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ['PULSE_SERVER'][5:])
send(s, u32(8) + u32(1) + u32(35 | 0xC0000000) + b'x' + struct.pack('>I', 256) + bytes(256))
cmd, tag, version = struct.unpack('>xIxIxI', packet(s)[:15])
print('auth=%d,%d shmbits=%d (%d)' % (cmd, tag, version >> 30, version))
send(s, u32(49) + u32(2) + u32($victim))
print('killreply=%d,%d,%d' % struct.unpack('>xIxIxI', packet(s)[:15]))
"
pactl move-sink-input $victim itnull 2>&1; echo move=\$?
pactl set-sink-input-volume $victim 10% 2>&1; echo victimvol=\$?
pactl set-sink-volume itnull 10% 2>&1; echo sinkvol=\$?
pactl suspend-sink itnull 1 2>&1; echo suspend=\$?
sox -q -n -r 44100 -c 1 -b 16 /tmp/sample.wav synth 0.1 sine 440; pactl upload-sample /tmp/sample.wav ds_sample 2>&1; echo upload=\$?
pactl list short sink-inputs 2>&1; echo listinputs=\$?
timeout 3 parec -d itnull.monitor --format=s16le --rate=44100 --channels=2 >/tmp/rec.raw 2>/tmp/rec.err; echo rec=\$? bytes=\$(wc -c </tmp/rec.raw); cat /tmp/rec.err
python3 -c "
import array, os, socket
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ['PULSE_SERVER'][5:])
s.sendmsg([bytes(20)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [0]))])
s.settimeout(3)
print('fdpass=' + ('closed' if s.recv(64) == b'' else 'open'))
"
''']
[pulse]
mode = "module"
microphone = $mic
EOF2
  rec=$(ds_scratch)/$name.raw
  it_as_user sh -c "exec timeout 4 parec -d itnull.monitor --latency-msec=50 --format=s16le --rate=44100 --channels=2 >'$rec'" &
  local recpid=$!
  out=$(sbx run "$name" 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  wait $recpid || true   # timeout's 124
  assert_contains "$out" "info=0"
  assert_contains "$out" "sinks=0"
  assert_contains "$out" "played=0"
  assert_contains "$out" "ownvol=1" "the volume of the app's own stream"
  rms=$(ds_rms "$rec")
  awk -v r="$rms" 'BEGIN { exit !(r > 0.05) }' || fail "the host's monitor recorded silence (RMS $rms)"
  local what
  # The hand-made client: authenticated, no SHM/memfd, and the kill refused with
  # ERROR(tag 2, PA_ERR_ACCESS) on a connection that stays usable.
  assert_contains "$out" "auth=2,1 shmbits=0 "
  assert_contains "$out" "killreply=0,2,1"
  for what in load ladspa default move victimvol sinkvol suspend upload listinputs; do
    assert_not_contains "$out" "$what=0" "the app's $what"
  done
  [ "$(echo "$out" | grep -c 'Access denied')" -ge 9 ] || fail "fewer than 9 'Access denied' in: $out"
  assert_contains "$out" "fdpass=closed"
  if [ "$mic" = true ]; then
    assert_not_contains "$out" "bytes=0" "recording with the microphone on"
  else
    assert_contains "$out" "bytes=0"
    assert_contains "$out" "Access denied"
    assert_contains "$out" "the microphone is off for this app"
  fi
  # Nothing changed on the host: no module, same default and volume, the victim still plays.
  assert_eq "$(ds_pactl list short modules)" "$mods_before" "the sound server's modules"
  assert_eq "$(ds_pactl get-default-sink)" "$default_before" "the default sink"
  assert_eq "$(ds_pactl get-sink-volume itnull)" "$vol_before" "the sink's volume"
  ds_pactl list short sink-inputs | awk '{print $1}' | grep -qx "$victim" || fail "the host's stream $victim was killed"
}

test_sound_pulseaudio_refuses_modules_defaults_and_other_clients() {
  trap "set +e; ds_stop_victim; true" EXIT
  ds_battery ds-pa false
}

test_sound_pulseaudio_microphone_on_records() {
  trap "set +e; ds_stop_victim; true" EXIT
  ds_battery ds-pa-mic true
}

test_sound_pipewire_refuses_modules_defaults_and_other_clients() {
  trap "set +e; ds_stop_victim; ds_stop_pipewire; true" EXIT
  ds_start_pipewire
  ds_battery ds-pw false
}

test_sound_doctor_names_pipewire_pulse() {
  # doctor's own exchange (no libpulse) against pipewire-pulse: its name and version as pactl prints them.
  trap "set +e; ds_stop_pipewire; true" EXIT
  ds_start_pipewire
  local name version out
  name=$(ds_pactl info | sed -n 's/^Server Name: *//p')
  version=$(ds_pactl info | sed -n 's/^Server Version: *//p')
  assert_contains "$name" "on PipeWire"
  out=$(sbx doctor)
  echo "$out"
  assert_contains "$out" "ok    pulseaudio: $name $version at $(ds_scratch)/pw/pulse/native; apps reach it through the sound mediator"
}

test_sound_pipewire_microphone_on_records() {
  trap "set +e; ds_stop_victim; ds_stop_pipewire; true" EXIT
  ds_start_pipewire
  ds_battery ds-pw-mic true
}
