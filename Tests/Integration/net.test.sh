# sandbox-net, the setuid veth helper, installed setuid root by the harness
# and run as the test users. Everything happens inside a network namespace
# each test creates (a bridge with 10.203.0.1/24): no traffic leaves it.
# "Container" namespaces are real unprivileged user+net namespaces made by
# the test user with unshare; fd 3 is opened by whoever the test says.
#
# /etc/sandbox/usernet is a fixed path (by design the caller cannot choose
# it): each test saves the existing file and puts it back on exit.

NET_HELPER=$IT_PREFIX/libexec/sandbox/sandbox-net
NET_BR=sbxitbr0
NET_GW=10.203.0.1

# Per-test set-up: a namespace holding the bridge, a saved usernet, cleanup on exit.
net_setup() {
  NET_NS=sbxit$$
  NET_PIDS=()
  NET_TMP=$(mktemp -d "$IT_STATE/net.XXXXXX")
  chmod 755 "$NET_TMP"
  mkdir -p /etc/sandbox
  if [ -e /etc/sandbox/usernet ] || [ -L /etc/sandbox/usernet ]; then
    mv /etc/sandbox/usernet "$NET_TMP/usernet.saved"
  fi
  trap net_cleanup EXIT
  ip netns add "$NET_NS"
  ip -n "$NET_NS" link set lo up
  ip -n "$NET_NS" link add "$NET_BR" type bridge
  ip -n "$NET_NS" addr add "$NET_GW/24" dev "$NET_BR"
  ip -n "$NET_NS" link set "$NET_BR" up
  NET_LEASES=/run/sandbox-net/leases.$(stat -L -c %i "/run/netns/$NET_NS")
  [ -u "$NET_HELPER" ] || fail "$NET_HELPER is not setuid"
}

net_cleanup() {
  local p
  for p in "${NET_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$NET_NS" 2>/dev/null || true
  rm -f "$NET_LEASES" /etc/sandbox/usernet
  [ -e "$NET_TMP/usernet.saved" ] && mv "$NET_TMP/usernet.saved" /etc/sandbox/usernet
  rm -rf "$NET_TMP"
}

# A container-like namespace owned by USER: an unprivileged user+net
# namespace kept alive by sleep. Prints its pid.
net_container() {
  local user=${1:-$IT_USER} pid
  pid=$(runuser -u "$user" -- sh -c 'cd /; unshare --user --map-root-user --net sleep 600 >/dev/null 2>&1 & echo $!')
  local i
  for i in $(seq 1 100); do
    [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.05
  done
  echo "$pid"
}

# Runs the helper as USER inside the bridge's namespace with a clean
# environment; extra shell redirections (fd 3) go in $NET_REDIR, evaluated by
# the user's own shell, so the user opens the namespace file themselves.
net_run() {
  local user=$1; shift
  ip netns exec "$NET_NS" runuser -u "$user" -- env -i PATH=/usr/bin:/bin ${NET_ENV:-} \
    sh -c "cd /; ${NET_PRE:-} exec \"\$0\" \"\$@\" ${NET_REDIR:-}" "$NET_HELPER" "$@"
}

# create as USER with fd 3 = /proc/PID/ns/net opened by USER.
net_create() {
  local user=$1 pid=$2; shift 2
  NET_REDIR="3</proc/$pid/ns/net" net_run "$user" create --bridge "$NET_BR" "$@"
}

# Everything a refused call must leave alone: the bridge namespace's links,
# the lease file, and the container's links.
net_state() {
  # Names, masters and MTUs; not the flags (carrier comes and goes by itself).
  ip -n "$NET_NS" -o link | sed -E 's/<[^>]*>//; s/ qdisc [^ ]+//; s/ state [A-Z]+.*( master [^ ]+)?.*/\1/'
  cat "$NET_LEASES" 2>/dev/null || echo "(no lease file)"
  local p
  for p in "$@"; do nsenter -t "$p" -U -n --preserve-credentials ip -o link | sed -E 's/<[^>]*>//; s/ qdisc.*//'; done
}

# Expects the command to fail with a message containing $1, and the state unchanged.
net_refused() {
  local want=$1 before=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || { fail "expected a refusal ($want), but it succeeded: $out"; return 1; }
  assert_contains "$out" "$want" || return 1
  assert_eq "$(net_state "${NET_STATE_PIDS[@]}")" "$before" "state after a refused call" || return 1
}

net_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# Configures the container side as the namespace's owner, the way the
# supervisor will (sbxnet_configure_in_namespaces), via a small C driver built
# from the same sources as the helper.
net_configure() {
  local pid=$1 line=$2 addr
  addr=$(net_field "$line" address)
  if [ ! -x "$IT_STATE/net-configure" ]; then
    cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$IT_ROOT/Sources/CSandboxNet/include" \
      "$IT_DIR/net-configure.c" "$IT_ROOT"/Sources/CSandboxNet/{lease,netlink,policy}.c -o "$IT_STATE/net-configure"
    chmod 755 "$IT_STATE/net-configure"
  fi
  runuser -u "$IT_USER" -- "$IT_STATE/net-configure" "$pid" "$(net_field "$line" container)" \
    "${addr%/*}" "${addr#*/}" "$(net_field "$line" gateway)" "$(net_field "$line" mtu)"
}

in_container() { local pid=$1; shift; nsenter -t "$pid" -U -n --preserve-credentials "$@"; }
# As the namespace's owner, i.e. its root, with its capabilities (to change its network).
as_container_root() { local user=$1 pid=$2; shift 2; runuser -u "$user" -- nsenter -t "$pid" -U -n --preserve-credentials "$@"; }

# Whether process $1 is blocked in a POSIX lock wait (a "->" line of /proc/locks).
net_waits_for_lock() { awk -v p="$1" '$2 == "->" && $6 == p { found = 1 } END { exit !found }' /proc/locks; }
# Whether a TCP socket listens on ADDR:PORT in the test's namespace.
net_listens() { ip netns exec "$NET_NS" ss -Hltn "src $1" | grep -q .; }

test_net_helper_is_setuid_and_hardened() {
  local st; st=$(stat -c '%a %U' "$NET_HELPER")
  assert_eq "$st" "4755 root" "mode and owner of $NET_HELPER"
  local h; h=$(readelf -hldW "$NET_HELPER")
  assert_contains "$h" "DYN (Position-Independent Executable" "PIE"
  assert_contains "$h" "GNU_RELRO" "RELRO"
  assert_contains "$h" "BIND_NOW" "-z now"
  local s; s=$(readelf --dyn-syms -W "$NET_HELPER")
  assert_contains "$s" "__stack_chk_fail" "stack protector"
  assert_contains "$s" "_chk@" "FORTIFY_SOURCE"
  assert_not_contains "$(readelf -dW "$NET_HELPER")" "swift" "linked to the Swift runtime"
}

test_net_veth_reaches_a_server_on_the_bridge() {
  net_setup
  ip -n "$NET_NS" link set "$NET_BR" mtu 1400
  it_usernet <<<"$IT_USER veth $NET_BR 2"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  local line; line=$(net_create "$IT_USER" "$pid" --name eth7)
  echo "helper: $line"
  [[ $line =~ ^host=sbx$(it_uid)a0\ container=eth7\ address=10\.203\.0\.[0-9]+/24\ gateway=10\.203\.0\.1\ mtu=1400$ ]] \
    || fail "unexpected helper output: $line"
  local host; host=$(net_field "$line" host)
  assert_contains "$(ip -n "$NET_NS" -o link show "$host")" "master $NET_BR" "host side on the bridge"
  assert_contains "$(ip -n "$NET_NS" -o link show "$host")" ",UP" "host side up"
  # The peer was born in the container's namespace, nowhere else.
  assert_contains "$(in_container "$pid" ip -o link show eth7)" "mtu 1400"

  net_configure "$pid" "$line"
  local addr; addr=$(net_field "$line" address)
  assert_contains "$(in_container "$pid" ip -o addr show eth7)" "inet $addr"
  assert_contains "$(in_container "$pid" ip route)" "default via $NET_GW dev eth7"
  assert_contains "$(in_container "$pid" ip -o link show lo)" "UP"

  # A real TCP server on the bridge address, a real connection from the container.
  local token; token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  mkdir -p "$NET_TMP/www" && echo "$token" >"$NET_TMP/www/token"
  ip netns exec "$NET_NS" /usr/bin/python3 -m http.server --bind "$NET_GW" --directory "$NET_TMP/www" 8080 \
    >"$NET_TMP/http.log" 2>&1 &
  NET_PIDS+=($!)
  local got="" i
  for i in $(seq 1 50); do
    got=$(in_container "$pid" bash -c "exec 5<>/dev/tcp/$NET_GW/8080 && printf 'GET /token HTTP/1.0\r\n\r\n' >&5 && cat <&5" 2>/dev/null | tail -n 1) && [ -n "$got" ] && break
    sleep 0.1
  done
  assert_eq "$got" "$token" "body fetched from the bridge's server"
  assert_contains "$(cat "$NET_TMP/http.log")" "${addr%/*}" "server saw the container's address"
}

test_net_release_and_namespace_death_free_the_lease() {
  net_setup
  it_usernet <<<"$IT_USER veth $NET_BR 1"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  local line; line=$(net_create "$IT_USER" "$pid")
  local host; host=$(net_field "$line" host)
  assert_contains "$(net_run "$IT_USER" list)" "host=$host"
  # Quota 1: a second one is refused while the first lives.
  NET_STATE_PIDS=("$pid"); local before; before=$(net_state "$pid")
  net_refused "quota reached" "$before" net_create "$IT_USER" "$pid" --name eth1
  # release deletes both ends and the lease.
  assert_contains "$(net_run "$IT_USER" release --bridge "$NET_BR" "$host")" "released host=$host"
  ip -n "$NET_NS" link show "$host" >/dev/null 2>&1 && fail "$host still exists after release"
  in_container "$pid" ip link show eth0 >/dev/null 2>&1 && fail "eth0 still exists in the container"
  assert_eq "$(grep -c . "$NET_LEASES" || true)" "0" "leases after release"
  # The namespace dying frees the lease: the next call reclaims it.
  line=$(net_create "$IT_USER" "$pid")
  host=$(net_field "$line" host)
  kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
  local i; for i in $(seq 1 50); do ip -n "$NET_NS" link show "$host" >/dev/null 2>&1 || break; sleep 0.1; done
  ip -n "$NET_NS" link show "$host" >/dev/null 2>&1 && fail "$host outlived its namespace"
  assert_eq "$(net_run "$IT_USER" list)" "" "list after the namespace died"
  assert_eq "$(grep -c . "$NET_LEASES" || true)" "0" "leases after reclaim"
  local addr; addr=$(net_field "$line" address)
  assert_eq "$(ip -n "$NET_NS" neigh show "${addr%/*}" dev "$NET_BR" | grep -c PERMANENT || true)" "0" "address pin after reclaim"
  # ...and the quota slot is usable again.
  local pid2; pid2=$(net_container); NET_PIDS+=("$pid2")
  net_create "$IT_USER" "$pid2" >/dev/null
}

test_net_quota_holds_under_20_concurrent_creates() {
  net_setup
  it_usernet <<EOF
# two lines for the same user add up: 1 + 2 = 3
$IT_USER veth $NET_BR 1
@$(id -gn "$IT_USER") veth $NET_BR 2
EOF
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  local i
  for i in $(seq 1 20); do
    net_create "$IT_USER" "$pid" --name "c$i" >"$NET_TMP/out.$i" 2>&1 &
  done
  wait
  local ok; ok=$(cat "$NET_TMP"/out.* | grep -c '^host=' || true)
  local refused; refused=$(cat "$NET_TMP"/out.* | grep -c 'quota reached' || true)
  assert_eq "$ok" "3" "successful creates"
  assert_eq "$refused" "17" "refused creates"
  assert_eq "$(ip -n "$NET_NS" -o link show master "$NET_BR" | grep -c sbx || true)" "3" "veths on the bridge"
  assert_eq "$(grep -c . "$NET_LEASES" || true)" "3" "leases"
  assert_eq "$(cut -d' ' -f5 "$NET_LEASES" | sort -u | wc -l)" "3" "distinct addresses"
  assert_eq "$(in_container "$pid" ip -o link | grep -c ' c[0-9]*@' || true)" "3" "peers in the container"
  assert_contains "$(net_run "$IT_USER" check)" "bridge=$NET_BR quota=3 used=3 state=ok gateway=$NET_GW/24"
}

test_net_concurrent_creates_race_for_the_last_slot() {
  net_setup
  it_usernet <<<"$IT_USER veth $NET_BR 4"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  local i
  for i in 1 2 3; do net_create "$IT_USER" "$pid" --name "s$i" >/dev/null; done
  for i in $(seq 1 20); do
    net_create "$IT_USER" "$pid" --name "r$i" >"$NET_TMP/out.$i" 2>&1 &
  done
  wait
  assert_eq "$(cat "$NET_TMP"/out.* | grep -c '^host=' || true)" "1" "winners of the last slot"
  assert_eq "$(grep -c . "$NET_LEASES" || true)" "4" "leases"
  assert_eq "$(in_container "$pid" ip -o link | grep -c ' [sr][0-9]*@' || true)" "4" "peers in the container"
}

test_net_refuses_namespaces_that_are_not_the_callers() {
  net_setup
  it_usernet <<EOF
$IT_USER veth $NET_BR 5
$IT_OTHER veth $NET_BR 5
EOF
  local mine; mine=$(net_container); NET_PIDS+=("$mine")
  local theirs; theirs=$(net_container "$IT_OTHER"); NET_PIDS+=("$theirs")
  ip netns add "${NET_NS}x"
  NET_STATE_PIDS=("$mine" "$theirs")
  local before; before=$(net_state "$mine" "$theirs")
  local r=(net_run "$IT_USER" create --bridge "$NET_BR")
  # Another user's namespace, handed over as an fd by someone who could open it.
  NET_REDIR="" net_refused "network namespace you do not own" "$before" \
    eval '"${r[@]}" 3</proc/'"$theirs"'/ns/net'
  # A root-made namespace (not the helper's, not the host's initial one).
  net_refused "network namespace you do not own" "$before" eval '"${r[@]}" 3</run/netns/'"${NET_NS}x"
  # The namespace the helper itself runs in, and the machine's initial one.
  net_refused "host's network namespace" "$before" eval '"${r[@]}" 3</run/netns/'"$NET_NS"
  net_refused "host's network namespace" "$before" eval '"${r[@]}" 3</proc/self/ns/net'
  NET_REDIR='3</proc/self/ns/net' net_refused "host's network namespace" "$before" "${r[@]}"
  # Not a network namespace at all.
  NET_REDIR='3</etc/passwd' net_refused "not a namespace" "$before" "${r[@]}"
  NET_REDIR='3</dev/null' net_refused "not a namespace" "$before" "${r[@]}"
  net_refused "not a namespace" "$before" eval 'echo hi | "${r[@]}" 3<&0'
  NET_REDIR="3</proc/$mine/ns/mnt" net_refused "not a network namespace" "$before" "${r[@]}"
  NET_REDIR="3</proc/$mine/ns/user" net_refused "not a network namespace" "$before" "${r[@]}"
  net_refused "fd 3 is not open" "$before" "${r[@]}"
  # sbother cannot use sbtest's namespace either, even when given the fd.
  net_refused "network namespace you do not own" "$before" eval \
    'ip netns exec "$NET_NS" runuser -u "$IT_OTHER" -- env -i "$NET_HELPER" create --bridge "$NET_BR" 3</proc/'"$mine"'/ns/net'
  ip netns del "${NET_NS}x"
}

test_net_refuses_bridges_names_and_arguments_outside_policy() {
  net_setup
  it_usernet <<<"$IT_USER veth $NET_BR 2"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  ip -n "$NET_NS" link add sbxitbr1 type bridge
  NET_STATE_PIDS=("$pid")
  local before; before=$(net_state "$pid")
  local redir="3</proc/$pid/ns/net"
  NET_REDIR=$redir net_refused "may not use bridge sbxitbr1" "$before" net_run "$IT_USER" create --bridge sbxitbr1
  local theirs; theirs=$(net_container "$IT_OTHER"); NET_PIDS+=("$theirs")
  NET_REDIR="3</proc/$theirs/ns/net" net_refused "may not use bridge" "$before" net_run "$IT_OTHER" create --bridge "$NET_BR"
  NET_REDIR=$redir net_refused "bad bridge name" "$before" net_run "$IT_USER" create --bridge "a/b"
  NET_REDIR=$redir net_refused "usage" "$before" net_run "$IT_USER" create --bridge "$(printf 'x%.0s' $(seq 1 80))"
  NET_REDIR=$redir net_refused "bad interface name" "$before" net_run "$IT_USER" create --bridge "$NET_BR" --name 0123456789abcdef
  NET_REDIR=$redir net_refused "bad interface name" "$before" net_run "$IT_USER" create --bridge "$NET_BR" --name ..
  NET_REDIR=$redir net_refused "usage" "$before" net_run "$IT_USER" create --bridge "$NET_BR" --bridge "$NET_BR"
  NET_REDIR=$redir net_refused "usage" "$before" net_run "$IT_USER" frobnicate
  # A granted bridge that is not there (or has no address) is reported as such.
  it_usernet <<<"$IT_USER veth nosuchbr 2"
  NET_REDIR=$redir net_refused "bridge nosuchbr is not usable here (missing)" "$before" net_run "$IT_USER" create --bridge nosuchbr
}

test_net_release_refuses_other_users_interfaces() {
  net_setup
  it_usernet <<EOF
$IT_USER veth $NET_BR 2
$IT_OTHER veth $NET_BR 2
EOF
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  local host; host=$(net_field "$(net_create "$IT_USER" "$pid")" host)
  NET_STATE_PIDS=("$pid")
  local before; before=$(net_state "$pid")
  local a b
  a=$(net_run "$IT_OTHER" release --bridge "$NET_BR" "$host" 2>&1) && fail "sbother released $host"
  b=$(net_run "$IT_OTHER" release --bridge "$NET_BR" "sbx$(it_uid "$IT_OTHER")a7" 2>&1) && fail "released a missing interface"
  # The same words whether the interface exists (someone else's) or not.
  assert_eq "${a//$host/X}" "${b//sbx$(it_uid "$IT_OTHER")a7/X}" "refusal texts"
  assert_eq "$(net_state "$pid")" "$before" "state after refused releases"
  # Not even the owner can release it through another bridge's name.
  net_refused "is leased to you" "$before" net_run "$IT_USER" release --bridge sbxitbr9 "$host"
  assert_eq "$(net_run "$IT_OTHER" list)" "" "sbother's list"
}

test_net_hostile_usernet_files_are_refused() {
  net_setup
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  NET_STATE_PIDS=("$pid")
  local before; before=$(net_state "$pid")
  local redir="3</proc/$pid/ns/net" u=$IT_USER
  local -a cases=(
    "$u veth $NET_BR -1|usernet:1: COUNT"
    "$u veth $NET_BR 99999999999999999999999|usernet:1: COUNT"
    "$u veth $NET_BR 1001|usernet:1: COUNT"
    "$u veth $NET_BR 0x10|usernet:1: COUNT"
    "$u veth $NET_BR|usernet:1: expected 4 fields"
    "$u veth $NET_BR 1 extra|usernet:1: expected 4 fields"
    "$u macvlan $NET_BR 1|usernet:1: only the \`veth\` type"
    "# fine\n$u veth bad/bridge 1|usernet:2: bad bridge name"
    "$u veth $NET_BR 1\n@ veth $NET_BR 1|usernet:2: bad user or @group"
    "$u veth $(printf 'b%.0s' $(seq 1 600)) 1|usernet:1: line longer"
  )
  local c
  for c in "${cases[@]}"; do
    printf -- "${c%%|*}\n" | it_usernet
    NET_REDIR=$redir net_refused "${c#*|}" "$before" net_run "$u" create --bridge "$NET_BR"
  done
  # A NUL byte hidden in an otherwise granting file.
  printf '%s veth %s 2\n\0%s veth %s 2\n' "$u" "$NET_BR" "$u" "$NET_BR" | it_usernet
  NET_REDIR=$redir net_refused "NUL byte" "$before" net_run "$u" create --bridge "$NET_BR"
  # Huge file.
  head -c 70000 /dev/zero | tr '\0' '#' | it_usernet
  NET_REDIR=$redir net_refused "larger than" "$before" net_run "$u" create --bridge "$NET_BR"
  # Ownership and modes: the file and its directory must be root's alone.
  it_usernet <<<"$u veth $NET_BR 2"
  chmod 0664 /etc/sandbox/usernet
  NET_REDIR=$redir net_refused "not writable by group or others" "$before" net_run "$u" create --bridge "$NET_BR"
  chmod 0644 /etc/sandbox/usernet; chown "$u" /etc/sandbox/usernet
  NET_REDIR=$redir net_refused "must be owned by root" "$before" net_run "$u" create --bridge "$NET_BR"
  chown root /etc/sandbox/usernet; mv /etc/sandbox/usernet "$NET_TMP/real"
  ln -s "$NET_TMP/real" /etc/sandbox/usernet
  NET_REDIR=$redir net_refused "symbolic link" "$before" net_run "$u" create --bridge "$NET_BR"
  rm /etc/sandbox/usernet
  NET_REDIR=$redir net_refused "usernet is missing" "$before" net_run "$u" create --bridge "$NET_BR"
  # And the good file works, so the refusals above were about the content.
  it_usernet <<<"$u veth $NET_BR 2"
  net_create "$u" "$pid" >/dev/null
}

test_net_hostile_lease_files_are_refused() {
  net_setup
  it_usernet <<<"$IT_USER veth $NET_BR 3"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  local uid; uid=$(it_uid)
  local ouid; ouid=$(it_uid "$IT_OTHER")
  mkdir -p /run/sandbox-net
  NET_STATE_PIDS=("$pid")
  local -a cases=(
    "$uid $NET_BR sbx${ouid}a0 0 10.203.0.9 1|not named for uid"
    "$uid $NET_BR sbx${uid}a0 0 10.203.0.9|expected 6 fields"
    "$uid  $NET_BR sbx${uid}a0 0 10.203.0.9 1|expected 6 fields"
    "$uid $NET_BR sbx${uid}a0 -1 10.203.0.9 1|bad interface index"
    "-$uid $NET_BR sbx${uid}a0 1 10.203.0.9 1|bad uid"
    "$uid $NET_BR sbx${uid}a0 1 10.203.0.09 1|bad address"
    "$uid $NET_BR sbx${uid}a0 1 10.203.0.9 99999999999999999999999|bad namespace inode"
    "$uid $NET_BR sbx${uid}a0 1 10.203.0.9 1\n$uid $NET_BR sbx${uid}a0 2 10.203.0.8 1|duplicate"
    "$(printf 'x%.0s' $(seq 1 700))|line longer"
  )
  local c before
  for c in "${cases[@]}"; do
    printf -- "${c%%|*}\n" >"$NET_LEASES"; chmod 0644 "$NET_LEASES"
    before=$(net_state "$pid")
    NET_REDIR="3</proc/$pid/ns/net" net_refused "${c#*|}" "$before" net_run "$IT_USER" create --bridge "$NET_BR"
    NET_REDIR="" net_refused "${c#*|}" "$before" net_run "$IT_USER" list
  done
  printf '%s %s sbx%sa0 1 10.203.0.9 1\n\0' "$uid" "$NET_BR" "$uid" >"$NET_LEASES"
  before=$(net_state "$pid")
  net_refused "NUL byte" "$before" net_run "$IT_USER" list
  printf '%s %s sbx%sa0 1 10.203.0.9 1' "$uid" "$NET_BR" "$uid" >"$NET_LEASES"
  before=$(net_state "$pid")
  net_refused "newline" "$before" net_run "$IT_USER" list
  # A lease file someone else can write is not trusted.
  : >"$NET_LEASES"; chmod 0666 "$NET_LEASES"
  before=$(net_state "$pid")
  net_refused "not writable by group or others" "$before" net_run "$IT_USER" list
  rm -f "$NET_LEASES"
  # A symlink planted as the lease file: refused, its target untouched.
  echo "precious" >"$NET_TMP/target"
  ln -s "$NET_TMP/target" "$NET_LEASES"
  before=$(net_state "$pid")
  NET_REDIR="3</proc/$pid/ns/net" net_refused "symbolic link" "$before" net_run "$IT_USER" create --bridge "$NET_BR"
  assert_eq "$(cat "$NET_TMP/target")" "precious" "symlink target"
  rm -f "$NET_LEASES"
  # A symlink planted as the temp file is removed, not followed.
  local tmpname; tmpname=/run/sandbox-net/.$(basename "$NET_LEASES").tmp
  ln -s "$NET_TMP/target" "$tmpname"
  net_create "$IT_USER" "$pid" >/dev/null
  assert_eq "$(cat "$NET_TMP/target")" "precious" "symlink target"
  [ -L "$tmpname" ] && fail "planted temp symlink survived"
  [ "$(stat -c '%U %a' "$NET_LEASES")" = "root 644" ] || fail "lease file mode: $(stat -c '%U %a' "$NET_LEASES")"
  # A lease directory others can write to is refused.
  chmod 0777 /run/sandbox-net
  before=$(net_state "$pid")
  net_refused "not writable by group or others" "$before" net_run "$IT_USER" list
  chmod 0755 /run/sandbox-net
}

test_net_environment_and_process_hardening() {
  net_setup
  it_usernet <<<"$IT_USER veth $NET_BR 2"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  # An LD_PRELOAD library that leaves a mark when loaded...
  cat >"$NET_TMP/evil.c" <<'EOF'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) {
    const char *p = getenv("EVIL_MARK");
    if (p) close(open(p, O_WRONLY | O_CREAT, 0666));
}
EOF
  cc -shared -fPIC -o "$NET_TMP/evil.so" "$NET_TMP/evil.c"
  chmod 755 "$NET_TMP/evil.so"; chmod 777 "$NET_TMP"
  # ...which does work on an ordinary (non-setuid) copy, so this test can fail:
  cp "$NET_HELPER" "$NET_TMP/plain-copy"; chmod 755 "$NET_TMP/plain-copy"
  runuser -u "$IT_USER" -- env LD_PRELOAD="$NET_TMP/evil.so" EVIL_MARK="$NET_TMP/mark-plain" "$NET_TMP/plain-copy" list >/dev/null 2>&1 || true
  [ -e "$NET_TMP/mark-plain" ] || fail "the preload library did not load even without setuid"
  # Set by the caller's shell just before it execs the helper.
  NET_PRE="export LD_PRELOAD=$NET_TMP/evil.so LD_LIBRARY_PATH=$NET_TMP EVIL_MARK=$NET_TMP/mark-suid SWIFT_DEBUG_FAILED_TYPE_LOOKUP=1 PATH=$NET_TMP:/bin GCONV_PATH=$NET_TMP;" \
    net_create "$IT_USER" "$pid" >/dev/null
  [ -e "$NET_TMP/mark-suid" ] && fail "LD_PRELOAD library ran inside the setuid helper"
  # With the lease lock held, the helper waits: look at it from outside.
  /usr/bin/python3 -c 'import fcntl,sys,time; fcntl.lockf(9, fcntl.LOCK_EX); sys.stdout.write("locked\n"); sys.stdout.flush(); time.sleep(30)' \
    >"$NET_TMP/locker" 9>>/run/sandbox-net/lock &
  NET_PIDS+=($!)
  local i; for i in $(seq 1 50); do grep -q locked "$NET_TMP/locker" && break; sleep 0.1; done
  exec 7</etc/hostname 8</etc/hostname   # extra fds the helper must close
  NET_PRE="umask 0077;" NET_REDIR="3</proc/$pid/ns/net" net_run "$IT_USER" create --bridge "$NET_BR" >"$NET_TMP/blocked" 2>&1 &
  local hp=""
  for i in $(seq 1 50); do hp=$(pgrep -u root -f "^$NET_HELPER create" | head -1 || true); [ -n "$hp" ] && break; sleep 0.1; done
  [ -n "$hp" ] || fail "helper did not start"
  it_wait_until 5000 "the helper ($hp) to wait for the lease lock" net_waits_for_lock "$hp"
  # Only std fds, the namespace, and its own netlink socket, lease dir and lock:
  # not the 7 and 8 the caller left open.
  assert_eq "$(ls /proc/"$hp"/fd | sort -n | tr '\n' ' ')" "0 1 2 3 4 5 6 " "fds of the helper"
  assert_eq "$(awk '/^Umask/ {print $2}' /proc/"$hp"/status)" "0022" "umask (the caller's was 0077)"
  # Root through and through while it holds the lock: its caller can neither
  # stop it (stalling every other user's helper) nor kill it half-way.
  assert_eq "$(awk '/^Uid/ {print $2, $3, $4}' /proc/"$hp"/status)" "0 0 0" "real, effective, saved uid"
  runuser -u "$IT_USER" -- kill -STOP "$hp" 2>/dev/null && fail "the caller could SIGSTOP the helper"
  runuser -u "$IT_USER" -- kill -KILL "$hp" 2>/dev/null && fail "the caller could SIGKILL the helper"
  # The lock wait is bounded: a caller stopping a helper cannot block others forever.
  wait %% 2>/dev/null || true
  for i in $(seq 1 150); do grep -q busy "$NET_TMP/blocked" && break; sleep 0.1; done
  assert_contains "$(cat "$NET_TMP/blocked")" "busy"
  assert_eq "$(grep -c . "$NET_LEASES" || true)" "1" "leases (the blocked create added none)"
}

test_net_reservation_of_a_killed_helper_is_not_a_quota_bypass() {
  net_setup
  it_usernet <<<"$IT_USER veth $NET_BR 1"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  # Simulate a helper killed after reserving, before recording the index:
  # a reservation for an interface that exists (adopted) ...
  local uid; uid=$(it_uid)
  net_create "$IT_USER" "$pid" >/dev/null
  sed -i -E "s/^($uid $NET_BR sbx${uid}a0) [0-9]+ /\1 0 /" "$NET_LEASES"
  local out; out=$(net_run "$IT_USER" list)
  assert_contains "$out" "host=sbx${uid}a0"
  grep -q "^$uid $NET_BR sbx${uid}a0 0 " "$NET_LEASES" && fail "reservation not adopted"
  out=$(NET_REDIR="3</proc/$pid/ns/net" net_run "$IT_USER" create --bridge "$NET_BR" --name eth1 2>&1) \
    && fail "adopted reservation did not count against the quota: $out"
  assert_contains "$out" "quota reached"
  # ... and one for an interface that never came to be (dropped).
  ip -n "$NET_NS" link del "sbx${uid}a0"
  printf '%s %s sbx%sa5 0 10.203.0.77 1\n' "$uid" "$NET_BR" "$uid" >"$NET_LEASES"
  assert_eq "$(net_run "$IT_USER" list)" "" "list after dropping a dead reservation"
  assert_eq "$(grep -c . "$NET_LEASES" || true)" "0" "leases"
  # A lease whose name now belongs to something that is not its veth is dropped,
  # and the name is not handed out again while taken.
  ip -n "$NET_NS" link add "sbx${uid}a0" type bridge
  local idx; idx=$(ip -n "$NET_NS" -o link show "sbx${uid}a0" | cut -d: -f1)
  printf '%s %s sbx%sa0 %s 10.203.0.77 1\n' "$uid" "$NET_BR" "$uid" "$idx" >"$NET_LEASES"
  assert_eq "$(net_run "$IT_USER" list)" "" "list with a lease on a non-veth"
  local line; line=$(net_create "$IT_USER" "$pid" --name eth2)
  assert_eq "$(net_field "$line" host)" "sbx${uid}a1" "host name next to a taken one"
  ip -n "$NET_NS" -d -o link show "sbx${uid}a0" | grep -q ' bridge ' || fail "the unrelated sbx${uid}a0 was touched"
}

test_net_check_reports_grants_and_use() {
  net_setup
  it_usernet <<EOF
$IT_USER veth $NET_BR 2
@$(id -gn "$IT_USER") veth sbxitbr2 1
$IT_OTHER veth sbxitbr3 9
EOF
  local out; out=$(net_run "$IT_USER" check)
  assert_contains "$out" "user=$IT_USER uid=$(it_uid) bridges=2"
  assert_contains "$out" "bridge=$NET_BR quota=2 used=0 state=ok gateway=$NET_GW/24"
  assert_contains "$out" "bridge=sbxitbr2 quota=1 used=0 state=missing gateway=-"
  # A granted name that is not a bridge, and a bridge without an address.
  ip -n "$NET_NS" link add sbxitbr2 type veth peer name sbxitpeer
  ip -n "$NET_NS" link add sbxitbr3 type bridge
  it_usernet <<EOF2
$IT_USER veth sbxitbr2 1
$IT_USER veth sbxitbr3 1
EOF2
  out=$(net_run "$IT_USER" check)
  assert_contains "$out" "bridge=sbxitbr2 quota=1 used=0 state=not-a-bridge gateway=-"
  assert_contains "$out" "bridge=sbxitbr3 quota=1 used=0 state=no-address gateway=-"
  it_usernet <<<"$IT_USER veth $NET_BR 2"
  out=$(net_run "$IT_USER" check)
  assert_not_contains "$out" "sbxitbr3"
  # argv[0] is the caller's to choose and means nothing to the helper.
  local odd; odd=$(ip netns exec "$NET_NS" runuser -u "$IT_USER" -- bash -c \
    'exec -a "$(printf "%%n%.0s" $(seq 1 3000))" "$0" check' "$NET_HELPER")
  assert_eq "$odd" "$out" "check with a hostile argv[0]"
}

test_net_parsers_survive_fuzzing() {
  make -C "$IT_ROOT" --no-print-directory fuzz-net FUZZ_SECONDS=10 BUILD="$IT_STATE/fuzz-build"
}

# The supervisor runs the helper right after clone, before newuidmap writes the
# id maps: the owner check and the container-side set-up must work then.
test_net_works_before_the_id_maps_are_written() {
  net_setup
  it_usernet <<<"$IT_USER veth $NET_BR 1"
  local pid; pid=$(runuser -u "$IT_USER" -- sh -c 'cd /; unshare --user --net sleep 600 >/dev/null 2>&1 & echo $!')
  NET_PIDS+=("$pid")
  local i; for i in $(seq 1 100); do [ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break; sleep 0.05; done
  assert_eq "$(wc -l <"/proc/$pid/uid_map")" "0" "uid_map lines (not yet written)"
  local line; line=$(net_create "$IT_USER" "$pid")
  net_configure "$pid" "$line"
  assert_contains "$(in_container "$pid" ip -o -4 addr show eth0)" "inet $(net_field "$line" address)"
  assert_contains "$(in_container "$pid" ip route)" "default via $NET_GW dev eth0"
}

# The administrator's script: bridge, address, forwarding and NAT, in the test's
# namespace; a container behind it reaches a server one hop further, seen
# from there as the masqueraded uplink address.
test_net_setup_script_gives_containers_nat() {
  net_setup
  local setup=$IT_PREFIX/libexec/sandbox/sandbox-net-setup
  [ -x "$setup" ] || fail "$setup not installed"
  # Idempotent on an existing bridge, and twice in a row.
  ip netns exec "$NET_NS" "$setup" --bridge "$NET_BR" --subnet "$NET_GW/24"
  ip netns exec "$NET_NS" "$setup" --bridge "$NET_BR" --subnet "$NET_GW/24"
  assert_eq "$(ip -n "$NET_NS" -o -4 addr show dev "$NET_BR" | wc -l)" "1" "addresses on the bridge"
  assert_eq "$(ip netns exec "$NET_NS" sysctl -n net.ipv4.ip_forward)" "1" "forwarding"
  assert_contains "$(ip netns exec "$NET_NS" nft list table ip sandbox_net_$NET_BR)" "masquerade"
  # An upstream namespace with a server, reachable from the bridge's namespace only.
  local up=${NET_NS}up
  ip netns add "$up"
  ip -n "$NET_NS" link add sbxitup type veth peer name uplink netns "$up"
  ip -n "$NET_NS" addr add 10.206.0.1/24 dev sbxitup; ip -n "$NET_NS" link set sbxitup up
  ip -n "$up" addr add 10.206.0.2/24 dev uplink; ip -n "$up" link set uplink up; ip -n "$up" link set lo up
  mkdir -p "$NET_TMP/www" && echo upstream >"$NET_TMP/www/hello"
  ip netns exec "$up" /usr/bin/python3 -m http.server --bind 10.206.0.2 --directory "$NET_TMP/www" 8081 \
    >"$NET_TMP/up.log" 2>&1 &
  NET_PIDS+=($!)
  it_usernet <<<"$IT_USER veth $NET_BR 1"
  local pid; pid=$(net_container); NET_PIDS+=("$pid")
  local line; line=$(net_create "$IT_USER" "$pid")
  net_configure "$pid" "$line"
  local got="" i
  for i in $(seq 1 50); do
    got=$(in_container "$pid" bash -c "exec 5<>/dev/tcp/10.206.0.2/8081 && printf 'GET /hello HTTP/1.0\r\n\r\n' >&5 && cat <&5" 2>/dev/null | tail -n 1) && [ -n "$got" ] && break
    sleep 0.1
  done
  assert_eq "$got" "upstream" "body from the upstream server"
  assert_contains "$(cat "$NET_TMP/up.log")" "10.206.0.1" "upstream saw the NAT address"
  assert_not_contains "$(cat "$NET_TMP/up.log")" "10.203.0." "upstream saw a container address"
  ip netns del "$up"
  # --down removes the table and the bridge.
  ip netns exec "$NET_NS" "$setup" --down --bridge "$NET_BR"
  ip netns exec "$NET_NS" nft list table ip "sandbox_net_$NET_BR" >/dev/null 2>&1 && fail "table survived --down"
  ip -n "$NET_NS" link show "$NET_BR" >/dev/null 2>&1 && fail "bridge survived --down"
  return 0
}

# Containers share the bridge, not a LAN: their ports are isolated, and the
# host keeps each leased address pinned to its container's MAC, so one
# container can neither reach another nor take over its address.
test_net_containers_cannot_reach_or_impersonate_each_other() {
  net_setup
  it_usernet <<EOF2
$IT_USER veth $NET_BR 1
$IT_OTHER veth $NET_BR 1
EOF2
  local a; a=$(net_container); NET_PIDS+=("$a")
  local b; b=$(net_container "$IT_OTHER"); NET_PIDS+=("$b")
  local la lb
  la=$(net_create "$IT_USER" "$a"); net_configure "$a" "$la"
  lb=$(NET_REDIR="3</proc/$b/ns/net" net_run "$IT_OTHER" create --bridge "$NET_BR")
  local addr_b; addr_b=$(net_field "$lb" address); addr_b=${addr_b%/*}
  local mac_b; mac_b=$(in_container "$b" ip -o link show eth0 | sed -E 's|.*link/ether ([0-9a-f:]+).*|\1|')
  runuser -u "$IT_OTHER" -- "$IT_STATE/net-configure" "$b" eth0 "$addr_b" 24 "$NET_GW" 1500
  assert_contains "$(ip -n "$NET_NS" neigh show "$addr_b" dev "$NET_BR")" "$mac_b PERMANENT" "pinned neighbour"
  assert_contains "$(ip -n "$NET_NS" -d -o link show "$(net_field "$la" host)")" "isolated on" "isolated port"
  # A server in B, reachable from the bridge's namespace (the host)...
  # (A plain socket server: http.server would first try a reverse DNS lookup.)
  in_container "$b" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8082)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"secret\n"); c.close()' "$addr_b" >/dev/null 2>&1 &
  NET_PIDS+=($!)
  local got="" i
  for i in $(seq 1 50); do
    got=$(ip netns exec "$NET_NS" bash -c "exec 5<>/dev/tcp/$addr_b/8082 && cat <&5" 2>/dev/null) && [ -n "$got" ] && break
    sleep 0.1
  done
  assert_eq "$got" "secret" "B's server from the host"
  # ...but not from A.
  in_container "$a" timeout 3 bash -c "exec 5<>/dev/tcp/$addr_b/8082" 2>/dev/null && fail "A reached B's server"
  # A takes B's address: the host still answers B's MAC, so A gets nothing back.
  mkdir -p "$NET_TMP/www" && echo hostdata >"$NET_TMP/www/h"
  ip netns exec "$NET_NS" /usr/bin/python3 -m http.server --bind "$NET_GW" --directory "$NET_TMP/www" 8083 >/dev/null 2>&1 &
  NET_PIDS+=($!)
  it_wait_until 5000 "the host's web server on $NET_GW:8083" net_listens "$NET_GW:8083"
  as_container_root "$IT_USER" "$a" ip addr flush dev eth0
  as_container_root "$IT_USER" "$a" ip addr add "$addr_b/24" dev eth0
  as_container_root "$IT_USER" "$a" ip route add default via "$NET_GW"
  in_container "$a" timeout 3 bash -c "exec 5<>/dev/tcp/$NET_GW/8083 && printf 'GET /h HTTP/1.0\r\n\r\n' >&5 && cat <&5" 2>/dev/null \
    | grep -q hostdata && fail "A impersonated B's address"
  assert_contains "$(ip -n "$NET_NS" neigh show "$addr_b" dev "$NET_BR")" "$mac_b PERMANENT" "pinned neighbour after the attempt"
  # Releasing B's lease forgets the pin.
  net_run "$IT_OTHER" release --bridge "$NET_BR" "$(net_field "$lb" host)" >/dev/null
  assert_eq "$(ip -n "$NET_NS" neigh show "$addr_b" dev "$NET_BR" | grep -c PERMANENT || true)" "0" "pins after release"
}
