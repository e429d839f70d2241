#!/usr/bin/env bash
# make bench: launch latency, join latency, teardown and supervisor memory of
# `sandbox`, side by side with bwrap, firejail and unshare in the same run, on
# the same machine, as the same ordinary user. Medians from hyperfine.
# Must start as root (it reuses the integration harness's test user and PREFIX).
# Results: a Markdown table on stdout and in out/bench.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export IT_ROOT=$ROOT IT_STATE=${IT_STATE:-/tmp/sandbox-bench} IT_DISPLAY_NUM=${IT_DISPLAY_NUM:-78}
. "$ROOT/Tests/Integration/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: run as root (it creates/uses the test user)"; exit 1; }
RUNS=${RUNS:-30}
mkdir -p "$ROOT/out" "$IT_STATE" "$IT_LOGS"
it_make_user "$IT_USER" 400000
rm -rf "$IT_PREFIX"
make -C "$ROOT" --no-print-directory install PREFIX="$IT_PREFIX" >"$IT_LOGS/install.log" 2>&1 || { cat "$IT_LOGS/install.log"; exit 1; }
chmod -R a+rX "$IT_PREFIX"

# A minimal profile: host rootfs, tmpfs home, no X/sound/network — the cost of the container itself.
it_profile bench <<'TOML'
description = "benchmark: the container alone"
command = ["/bin/true"]
[home]
mode = "tmpfs"
[network]
mode = "none"
TOML

home=$(it_home)
json=$IT_STATE/json; mkdir -p "$json"; chmod 777 "$json"
hf() { # name, hyperfine args...
  local name=$1; shift
  it_as_user hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$json/$name.json" "$@" >/dev/null 2>"$IT_LOGS/$name.err" \
    || { echo "| $name | failed: $(tail -1 "$IT_LOGS/$name.err") |"; return 0; }
  python3 - "$json/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"| {sys.argv[2]} | {r['median']*1000:.1f} ms | {r['min']*1000:.1f} ms | {r['max']*1000:.1f} ms |")
PY
}

SBX=$IT_PREFIX/bin/sandbox
{
echo "# Benchmarks ($(date -u +%F), $(nproc) cores, kernel $(uname -r), $RUNS runs each)"
echo
echo "| what | median | min | max |"
echo "| --- | --- | --- | --- |"
hf true /bin/true
hf unshare-Ur "unshare -Ur /bin/true"
hf bwrap-unshare-all "bwrap --unshare-all --ro-bind /usr /usr --symlink usr/lib64 /lib64 --symlink usr/lib /lib --symlink usr/bin /bin --proc /proc --dev /dev /bin/true"
hf firejail-noprofile "firejail --quiet --noprofile /bin/true"
hf firejail-default "firejail --quiet /bin/true"
hf sandbox-launch "$SBX run bench"
# Join: a started container, then one session after another.
it_as_user "$SBX" start bench >/dev/null 2>&1 || true
hf sandbox-join "$SBX exec bench -- /bin/true"
it_as_user "$SBX" stop bench >/dev/null 2>&1 || true
# Teardown: stop of a started container (start is the prepare step, not timed).
hf sandbox-teardown --prepare "$SBX start bench" "$SBX stop bench"
echo
# Supervisor memory while one session runs.
it_as_user sh -c "'$SBX' run bench -- /bin/sleep 3 >/dev/null 2>&1 &"
sleep 1
rss=""
for p in $(pgrep -u "$IT_USER" -f "$SBX run bench" || true); do
  r=$(awk '/^VmRSS/{print $2}' /proc/$p/status 2>/dev/null || true); [ -n "$r" ] && rss="$rss ${r} kB (pid $p)"
done
echo "Supervisor RSS while one session runs:${rss:- not measured (no supervisor process found)}"
sleep 3
} | tee "$ROOT/out/bench.md"
