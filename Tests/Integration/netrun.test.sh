# Networking through `sandbox run`: the profile's network.mode as the user
# gets it, end to end (Engine.hooks → sandbox-net / pasta → the container).
# Everything happens inside a network namespace each test creates, holding a
# bridge with 10.204.0.1/24: `sandbox run` itself runs there (ip netns exec),
# so the supervisor, the setuid helper and pasta see that namespace as "the
# host". No traffic leaves it; no real DNS server is asked (a responder the
# test runs answers).
#
# /etc/sandbox/usernet is a fixed path: each test saves the existing file and
# puts it back on exit. /etc/netns/NS/resolv.conf (which ip netns exec binds
# over /etc/resolv.conf) plays the host's resolver configuration.

NR_HELPER=$IT_PREFIX/libexec/sandbox/sandbox-net
NR_SETUP=$IT_PREFIX/libexec/sandbox/sandbox-net-setup
NR_BR=sbxnrbr0
NR_GW=10.204.0.1

nr_setup() {
  NR_NS=sbxnr$$
  NR_PIDS=()
  NR_TMP=$(mktemp -d "$IT_STATE/netrun.XXXXXX")
  chmod 755 "$NR_TMP"
  mkdir -p /etc/sandbox
  if [ -e /etc/sandbox/usernet ] || [ -L /etc/sandbox/usernet ]; then
    mv /etc/sandbox/usernet "$NR_TMP/usernet.saved"
  fi
  NR_TUN_MODE=$(stat -c %a /dev/net/tun 2>/dev/null || echo "")
  trap nr_cleanup EXIT
  ip netns add "$NR_NS"
  ip -n "$NR_NS" link set lo up
  ip -n "$NR_NS" link add "$NR_BR" type bridge
  ip -n "$NR_NS" addr add "$NR_GW/24" dev "$NR_BR"
  ip -n "$NR_NS" link set "$NR_BR" up
  NR_LEASES=/run/sandbox-net/leases.$(stat -L -c %i "/run/netns/$NR_NS")
  [ -u "$NR_HELPER" ] || fail "$NR_HELPER is not setuid"
}

nr_cleanup() {
  local p
  # Containers this test started (supervisors of the test user's nr* profiles), by pid.
  for p in $(pgrep -u "$IT_USER" -f "sandbox-(supervisor|monitor) nr[a-z0-9]*$" || true); do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${NR_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$NR_NS" 2>/dev/null || true
  rm -rf "/etc/netns/$NR_NS"
  rm -f "$NR_LEASES" /etc/sandbox/usernet
  [ -e "$NR_TMP/usernet.saved" ] && mv "$NR_TMP/usernet.saved" /etc/sandbox/usernet
  [ -n "$NR_TUN_MODE" ] && chmod "$NR_TUN_MODE" /dev/net/tun
  rm -rf "$NR_TMP"
}

# A profile NAME with network.mode MODE (bridge = the test bridge for veth).
nr_profile() {
  local name=$1 mode=$2 bridge=${3:-$NR_BR}
  it_profile "$name" <<EOF
description = "netrun integration test"
command = ["/bin/bash"]
[network]
mode = "$mode"
bridge = "$bridge"
[session]
stop_timeout = 2
EOF
}

# The host's resolver configuration as seen inside the test namespace.
nr_resolv_conf() { mkdir -p "/etc/netns/$NR_NS"; cat >"/etc/netns/$NR_NS/resolv.conf"; }

# `sandbox` as the test user, inside the test namespace, with the session
# environment it_as_user gives (ip netns exec must come before runuser: it
# needs root to enter the namespace).
nr_sbx() {
  local home; home=$(it_home)
  (cd / && ip netns exec "$NR_NS" runuser -u "$IT_USER" -- env -i \
    HOME="$home" USER="$IT_USER" LOGNAME="$IT_USER" SHELL=/bin/bash LANG=C.UTF-8 \
    PATH="$IT_PREFIX/bin:/usr/local/bin:/usr/bin:/bin" XDG_RUNTIME_DIR="$(it_runtime)" \
    "$IT_PREFIX/bin/sandbox" "$@")
}

# The helper as the test user in the test namespace.
nr_net() { (cd / && ip netns exec "$NR_NS" runuser -u "$IT_USER" -- env -i "$NR_HELPER" "$@"); }

# A TCP server on ADDRESS:PORT in the test namespace: answers every connection
# with "TOKEN PEER-ADDRESS"; bounded in time.
nr_server() {
  local addr=$1 port=$2 token=$3
  ip netns exec "$NR_NS" timeout 120 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, peer = s.accept(); c.sendall(("%s %s\n" % (sys.argv[3], peer[0])).encode()); c.close()' "$addr" "$port" "$token" \
    >"$NR_TMP/server.$port.log" 2>&1 &
  NR_PIDS+=($!)
  local i; for i in $(seq 1 50); do
    ip netns exec "$NR_NS" bash -c "exec 5<>/dev/tcp/$addr/$port" 2>/dev/null && return 0; sleep 0.1
  done
  fail "server on $addr:$port did not come up"
}

# A DNS responder on ADDRESS:53 in the test namespace (Tests/Integration/dns-responder.py).
nr_dns() {
  local addr=$1 name=$2 answer=$3
  ip netns exec "$NR_NS" timeout 120 /usr/bin/python3 "$IT_DIR/dns-responder.py" "$addr" "$name" "$answer" 110 \
    "$NR_TMP/dns.log" >"$NR_TMP/dns.out" 2>&1 &
  NR_PIDS+=($!)
  local i; for i in $(seq 1 50); do ip netns exec "$NR_NS" ss -Hlun "src $addr:53" | grep -q . && return 0; sleep 0.1; done
  fail "DNS responder on $addr did not come up: $(cat "$NR_TMP/dns.out")"
}

# Whether a UDP socket is bound to ADDR:PORT in the test's namespace.
nr_listens_udp() { ip netns exec "$NR_NS" ss -Hlun "src $1" | grep -q .; }

# Waits until COND (a shell expression) holds, for about N tenths of a second.
nr_wait() { it_wait_until $(( ${2:-50} * 150 )) "$1" eval "$1"; }

nr_sbx_links() { ip -n "$NR_NS" -o link show master "$NR_BR" 2>/dev/null | grep -c ' sbx' || true; }
nr_lease_count() { cat "$NR_LEASES" 2>/dev/null | grep -c . || true; }
nr_state_dir() { echo "$(it_runtime)/sandbox/$1"; }
nr_supervisor() { pgrep -u "$IT_USER" -f "sandbox-(supervisor|monitor) $1$" || true; }

# The container's address, route and a real TCP connection to the bridge's
# address; while it runs, one veth on the bridge and one lease; after it stops,
# neither.
test_netrun_veth_gets_an_address_a_route_and_reaches_the_bridge() {
  nr_setup
  it_usernet <<<"$IT_USER veth $NR_BR 2"
  local token; token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  nr_server "$NR_GW" 8090 "$token"
  nr_profile nrveth veth
  nr_sbx run nrveth -- -c "ip -o -4 addr show; ip route; exec 5<>/dev/tcp/$NR_GW/8090 && cat <&5; exec sleep 60" \
    >"$NR_TMP/run.out" 2>&1 &
  local launcher=$!
  NR_PIDS+=("$launcher")
  nr_wait 'grep -q "^$token " "$NR_TMP/run.out"' 150 || fail "no answer from the server: $(cat "$NR_TMP/run.out")"
  local out; out=$(cat "$NR_TMP/run.out"); echo "$out"
  [[ $out =~ eth0\ +inet\ (10\.204\.0\.[0-9]+)/24 ]] || fail "no 10.204.0.x/24 on eth0: $out"
  local addr=${BASH_REMATCH[1]}
  assert_contains "$out" "default via $NR_GW dev eth0" "route"
  assert_contains "$out" "$token $addr" "the server saw the container's address"
  # While it runs: one port on the bridge, one lease, listed for the user.
  assert_eq "$(nr_sbx_links)" "1" "veths on the bridge while running"
  assert_eq "$(nr_lease_count)" "1" "leases while running"
  assert_contains "$(nr_net list)" "address=$addr"
  # Running for a while, its supervisor has become the monitor: the lease goes back
  # through the teardown record the monitor hands to `sandbox-supervisor --finish`.
  nr_wait '[ "$(readlink /proc/"$(nr_supervisor nrveth)"/exe 2>/dev/null)" = "$IT_PREFIX/libexec/sandbox/sandbox-monitor" ]' 50 \
    || fail "the supervisor did not become the monitor"
  nr_sbx stop nrveth
  nr_wait '! kill -0 '"$launcher"' 2>/dev/null' 100 || fail "the launcher did not exit after stop"
  nr_wait '[ "$(nr_sbx_links)" = 0 ]' 50 || fail "veth left on the bridge: $(ip -n "$NR_NS" -o link)"
  assert_eq "$(nr_net list)" "" "the user's leases after the stop"
  assert_eq "$(nr_lease_count)" "0" "lease file entries after the stop"
  nr_wait '[ ! -e "$(nr_state_dir nrveth)" ]' 50 || fail "state dir left"
  [ -z "$(nr_supervisor nrveth)" ] || fail "supervisor left"
}

# Start latency of veth against no network (medians of 5, printed; bounded
# far below firejail --net's 1.6 s ARP probe).
test_netrun_veth_start_latency() {
  nr_setup
  it_usernet <<<"$IT_USER veth $NR_BR 2"
  nr_profile nrlat veth
  nr_profile nrlatnone none
  local name i t0 times
  nr_sbx run nrlat -- -c true || fail "warm-up run failed"
  for name in nrlatnone nrlat; do
    times=()
    for i in 1 2 3 4 5; do
      t0=$(date +%s%N)
      nr_sbx run "$name" -- -c true >/dev/null || fail "$name run $i failed"
      times+=($(( ($(date +%s%N) - t0) / 1000000 )))
    done
    local median; median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
    echo "start+stop $name: ${times[*]} ms (median $median)"
    eval "median_$name=$median"
  done
  # shellcheck disable=SC2154
  [ "$median_nrlat" -lt 1500 ] || fail "veth start median $median_nrlat ms"
  # The supervisor releases the lease after the launcher has returned.
  nr_wait '[ "$(nr_lease_count)" = 0 ]' 50 || fail "leases after the runs: $(cat "$NR_LEASES")"
}

# 20 distinct containers starting at once with a quota of 5: exactly 5 get a
# network; the others fail with the helper's quota message and leave nothing.
test_netrun_quota_holds_under_20_concurrent_runs() {
  nr_setup
  it_usernet <<<"$IT_USER veth $NR_BR 5"
  local i
  for i in $(seq 1 20); do nr_profile "nrq$i" veth; done
  for i in $(seq 1 20); do
    nr_sbx run "nrq$i" -- -c 'ip -o -4 addr show eth0; exec sleep 120' >"$NR_TMP/q.$i" 2>&1 &
    NR_PIDS+=($!)
  done
  nr_wait '[ $(( $(cat "$NR_TMP"/q.* | grep -c "inet 10.204.0." || true) + $(cat "$NR_TMP"/q.* | grep -c "quota reached" || true) )) -ge 20 ]' 1200 \
    || fail "not all runs finished starting: $(head -n 3 "$NR_TMP"/q.*)"
  local ok refused
  ok=$(cat "$NR_TMP"/q.* | grep -c "inet 10.204.0." || true)
  refused=$(cat "$NR_TMP"/q.* | grep -c "quota reached: 5 of 5" || true)
  assert_eq "$ok" "5" "runs with a network"
  assert_eq "$refused" "15" "runs refused by the quota"
  assert_eq "$(nr_sbx_links)" "5" "veths on the bridge"
  assert_eq "$(nr_lease_count)" "5" "leases"
  assert_eq "$(cut -d' ' -f5 "$NR_LEASES" | sort -u | wc -l)" "5" "distinct addresses"
  # The refused ones left no state directory and no process.
  for i in $(seq 1 20); do
    grep -q "quota reached" "$NR_TMP/q.$i" || continue
    [ -e "$(nr_state_dir "nrq$i")" ] && fail "nrq$i: state dir left after a refused start"
    [ -n "$(nr_supervisor "nrq$i")" ] && fail "nrq$i: supervisor left after a refused start"
  done
  for i in $(seq 1 20); do nr_sbx stop "nrq$i" >/dev/null 2>&1 || true; done
  nr_wait '[ "$(nr_sbx_links)" = 0 ] && [ "$(nr_lease_count)" = 0 ]' 100 || fail "leases left after the stops: $(cat "$NR_LEASES")"
}

# SIGKILL of a veth container's supervisor: the init follows (lifeline), the
# namespace dies with the veth, and the next run reclaims the lease.
test_netrun_supervisor_sigkill_frees_the_veth_and_the_lease() {
  nr_setup
  it_usernet <<<"$IT_USER veth $NR_BR 1"
  nr_profile nrkill veth
  nr_sbx run nrkill -- -c 'ip -o -4 addr show eth0; exec sleep 120' >"$NR_TMP/run.out" 2>&1 &
  NR_PIDS+=($!)
  nr_wait 'grep -q "inet 10.204.0." "$NR_TMP/run.out"' 150 || fail "no address: $(cat "$NR_TMP/run.out")"
  assert_eq "$(nr_sbx_links)" "1" "veths while running"
  local sup; sup=$(nr_supervisor nrkill)
  [ -n "$sup" ] || fail "no supervisor found"
  kill -KILL $sup
  nr_wait '[ "$(nr_sbx_links)" = 0 ]' 100 || fail "veth outlived the killed supervisor: $(ip -n "$NR_NS" -o link)"
  # The lease file still names it until the helper's next call reclaims it.
  local out; out=$(nr_sbx run nrkill -- -c 'ip -o -4 addr show eth0' 2>&1) || fail "the next run failed: $out"
  assert_contains "$out" "inet 10.204.0."
  nr_wait '[ "$(nr_lease_count)" = 0 ]' 50 || fail "lease left: $(cat "$NR_LEASES")"
}

# A bridge the administrator did not grant: a clear refusal, nothing left.
test_netrun_ungranted_bridge_fails_clearly_and_leaves_nothing() {
  nr_setup
  it_usernet <<<"$IT_OTHER veth $NR_BR 4"
  nr_profile nrdeny veth
  local out rc=0
  out=$(nr_sbx run nrdeny -- -c 'echo app-ran' 2>&1) || rc=$?
  echo "$out"
  [ "$rc" -ne 0 ] || fail "sandbox run succeeded on a bridge not granted"
  assert_contains "$out" "may not use bridge $NR_BR"
  assert_contains "$out" "/etc/sandbox/usernet"
  assert_not_contains "$out" "app-ran"
  [ -e "$(nr_state_dir nrdeny)" ] && fail "state dir left: $(ls -la "$(nr_state_dir nrdeny)")"
  nr_wait '[ -z "$(nr_supervisor nrdeny)" ]' 30 || fail "supervisor left"
  assert_eq "$(nr_sbx_links)" "0" "veths on the bridge"
  assert_eq "$(nr_lease_count)" "0" "leases"
}

test_netrun_none_gives_only_loopback_and_host_shares_the_namespace() {
  nr_setup
  nr_profile nrnone none
  local out; out=$(nr_sbx run nrnone -- -c 'ip -o link show | cut -d: -f2' 2>&1)
  assert_eq "$(echo "$out" | tr -d ' ')" "lo" "links with network.mode = none"
  nr_profile nrhost host
  out=$(nr_sbx run nrhost -- -c 'ip -o link show | cut -d: -f2; ip -o -4 addr show' 2>&1)
  echo "$out"
  assert_contains "$out" "$NR_BR" "the test namespace's bridge seen from a host-mode container"
  assert_contains "$out" "inet $NR_GW/24"
  assert_contains "$out" 'network.mode = "host": the app shares your network namespace' "the warning"
}

# pasta: the container gets an interface, reaches a TCP server on an address
# of the test namespace, and resolves names through pasta's DNS forwarding to
# the "host's" loopback stub; pasta is gone after the stop.
# pasta copies the address and default route of the interface with the
# default route: an uplink pair in the test namespace (10.205.0.1, gateway .254).
nr_pasta_uplink() {
  command -v pasta >/dev/null || fail "pasta is not installed (scripts/install-deps.sh installs passt)"
  chmod 666 /dev/net/tun      # as desktops ship it (udev); restored on exit
  ip -n "$NR_NS" link add nrup type veth peer name nrupp
  ip -n "$NR_NS" addr add 10.205.0.1/24 dev nrup
  ip -n "$NR_NS" link set nrup up
  ip -n "$NR_NS" link set nrupp up
  ip -n "$NR_NS" route add default via 10.205.0.254
}

test_netrun_pasta_reaches_the_namespace_and_resolves_through_it() {
  nr_setup
  nr_pasta_uplink
  local token; token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  # The bridge's address: local to the test namespace, not the one pasta copies.
  nr_server "$NR_GW" 8091 "$token"
  nr_resolv_conf <<<"nameserver 127.0.0.53"
  nr_dns 127.0.0.53 pasta.it.example 10.9.8.7
  nr_profile nrpasta pasta
  local out; out=$(nr_sbx run nrpasta -- -c "ip -o -4 addr show; ip route; cat /etc/resolv.conf; exec 5<>/dev/tcp/$NR_GW/8091 && cat <&5; getent hosts pasta.it.example | tr -s \" \"; getent hosts nrpasta | tr -s \" \"" 2>&1) || fail "sandbox run failed: $out"
  echo "$out"
  assert_contains "$out" "inet 10.205.0.1/24" "pasta's copy of the uplink's address"
  assert_contains "$out" "default via 10.205.0.254"
  assert_contains "$out" "$token " "the server's answer"
  assert_contains "$out" "nameserver 169.254.0.53" "resolv.conf points at pasta's DNS forwarder"
  assert_contains "$out" "10.9.8.7 pasta.it.example"
  assert_contains "$out" "127.0.1.1 nrpasta" "the container's own name from the generated /etc/hosts"
  assert_contains "$(cat "$NR_TMP/dns.log")" "pasta.it.example 1"
  nr_wait '[ -z "$(pgrep -u "$IT_USER" -x pasta)" ]' 50 || fail "pasta outlived the container"
  nr_wait '[ ! -e "$(nr_state_dir nrpasta)" ]' 50 || fail "state dir left"
}

# Issue 9 #5: pasta's defaults mapped the gateway address to the host's
# loopback, forwarded the container's 127.0.0.1:PORT to every port bound on the
# host's loopback (-T auto), and opened every port the app bound on all of the
# host's interfaces (-t auto). Now: outbound only. A host service on 127.0.0.1
# is not reachable from inside at 127.0.0.1 nor through the gateway address;
# a port the app listens on inside is not opened on the host.
test_netrun_pasta_is_outbound_only_no_host_loopback_no_inbound_ports() {
  nr_setup
  nr_pasta_uplink
  local token; token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  nr_server 127.0.0.1 8092 "$token"          # the "host's" loopback-only service
  nr_server "$NR_GW" 8091 "$token-lan"       # a host address, reachable like any machine's
  nr_profile nrpasta pasta
  local probe='
try() {  # ADDR PORT: the first line a TCP server sends, or CLOSED
  timeout 4 bash -c "exec 5<>/dev/tcp/$1/$2 && head -n 1 <&5" 2>/dev/null || echo CLOSED
}
echo "lan: $(try '"$NR_GW"' 8091)"
echo "loopback: $(try 127.0.0.1 8092)"
echo "gateway: $(try 10.205.0.254 8092)"
python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"0.0.0.0\", 8093)); s.listen(8)
print(\"LISTENING\", flush=True)
s.settimeout(8)
try:
    while True:
        c, peer = s.accept(); print(\"INBOUND from\", peer[0], flush=True); c.close()
except socket.timeout:
    pass
" &
for i in $(seq 1 50); do ss -Hltn "sport = :8093" | grep -q . && break; sleep 0.1; done
echo "own: $(python3 -c "import socket; c = socket.create_connection((\"127.0.0.1\", 8093), 3); print(\"ok\")" 2>&1 | tail -n 1)"
wait'
  nr_sbx run nrpasta -- -c "$probe" >"$NR_TMP/inside.out" 2>&1 &
  local runner=$!
  nr_wait 'grep -q LISTENING "$NR_TMP/inside.out"' 150 || fail "the listener inside did not start: $(cat "$NR_TMP/inside.out")"
  # pasta's "auto" scans the container's bound ports every second: give it three.
  local i opened=""
  for i in $(seq 1 15); do
    if ip netns exec "$NR_NS" ss -Hltn "sport = :8093" | grep -q .; then opened="listening on the host: $(ip netns exec "$NR_NS" ss -Hltn "sport = :8093")"; break; fi
    if ip netns exec "$NR_NS" timeout 1 bash -c "exec 5<>/dev/tcp/10.205.0.1/8093" 2>/dev/null; then opened="connect to 10.205.0.1:8093 succeeded"; break; fi
    if ip netns exec "$NR_NS" timeout 1 bash -c "exec 5<>/dev/tcp/127.0.0.1/8093" 2>/dev/null; then opened="connect to 127.0.0.1:8093 succeeded"; break; fi
    sleep 0.2
  done
  wait "$runner" || true
  local out; out=$(cat "$NR_TMP/inside.out")
  echo "$out"
  [ -z "$opened" ] || fail "the app's port 8093 was opened on the host: $opened"
  assert_contains "$out" "lan: $token-lan" "outbound to a host address (the control: pasta works)"
  assert_contains "$out" "own: ok" "the app's own listener over its loopback (the control: it listened)"
  assert_contains "$out" "loopback: CLOSED" "the host's 127.0.0.1:8092 from inside at 127.0.0.1"
  assert_contains "$out" "gateway: CLOSED" "the host's 127.0.0.1:8092 through the gateway address"
  assert_not_contains "$out" "$token " "the loopback service's answer"
}

# DNS for veth containers when the host resolves through a loopback stub
# (systemd-resolved): the container asks the bridge's address and the setup
# script's rules hand the query to the stub, from a loopback source.
test_netrun_veth_dns_through_the_hosts_loopback_stub() {
  nr_setup
  it_usernet <<<"$IT_USER veth $NR_BR 1"
  nr_resolv_conf <<<"nameserver 127.0.0.53
options edns0 trust-ad
search it.example"
  local msg; msg=$(ip netns exec "$NR_NS" "$NR_SETUP" --bridge "$NR_BR" --subnet "$NR_GW/24")
  echo "$msg"
  assert_contains "$msg" "DNS to $NR_GW goes to the stub 127.0.0.53"
  assert_eq "$(ip netns exec "$NR_NS" cat /proc/sys/net/ipv4/conf/$NR_BR/route_localnet)" "1" "route_localnet"
  nr_dns 127.0.0.53 stub.it.example 10.9.8.7
  nr_profile nrdns veth
  local out; out=$(nr_sbx run nrdns -- -c 'cat /etc/resolv.conf; getent hosts stub.it.example | tr -s " "; getent hosts nrdns | tr -s " "; getent hosts nosuch.it.example || echo "nosuch: not found"' 2>&1)
  echo "$out"
  assert_contains "$out" "nameserver $NR_GW" "resolv.conf points at the bridge"
  assert_not_contains "$out" "nameserver 127." "a loopback nameserver in the container"
  assert_contains "$out" "search it.example"
  assert_contains "$out" "10.9.8.7 stub.it.example"
  assert_contains "$out" "127.0.1.1 nrdns"
  assert_contains "$out" "nosuch: not found"
  # The stub saw loopback sources only (systemd-resolved drops others).
  assert_contains "$(cat "$NR_TMP/dns.log")" "127.0.0.1 stub.it.example 1"
  assert_not_contains "$(cat "$NR_TMP/dns.log")" "10.204.0." "the stub saw a container address"
  # route_localnet opens the host's loopback to the bridge (CVE-2020-8558):
  # a container that routes 127/8 to its gateway reaches a UDP service on the
  # host's 127.0.0.1 — unless the guard chain drops it. The container's owner
  # can change its routes (nsenter into a session process: root of its user namespace).
  nr_sbx run nrdns -- -c 'exec sleep 60' >/dev/null 2>&1 &
  NR_PIDS+=($!)
  local app=""
  nr_wait 'app=$(pgrep -u "$IT_USER" -x sleep | head -n 1); [ -n "$app" ] && [ "$(readlink /proc/$app/ns/net)" != "$(readlink /proc/self/ns/net)" ]' 100 \
    || fail "the app did not start"
  ip netns exec "$NR_NS" timeout 60 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5399))
while True:
    d, a = s.recvfrom(100); open(sys.argv[1], "a").write("%s %s\n" % (a[0], d.decode()))' "$NR_TMP/loopback.log" &
  NR_PIDS+=($!)
  it_wait_until 5000 "the host's UDP service on 127.0.0.1:5399" nr_listens_udp 127.0.0.1:5399
  local attack="ip route del local 127.0.0.0/8 dev lo table local; ip route del local 127.0.0.1 dev lo table local 2>/dev/null;
    ip route add 127.0.0.0/8 via $NR_GW; sysctl -q -w net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1;"
  runuser -u "$IT_USER" -- nsenter -t "$app" -U -n sh -c "$attack" || fail "could not reroute 127/8 in the container"
  local send='/usr/bin/python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"$0\", (\"127.0.0.1\", 5399))"'
  runuser -u "$IT_USER" -- nsenter -t "$app" -U -n sh -c "$send" guarded
  # No wait for what must not arrive: had the guarded packet got through, it
  # would be in the log before the unguarded one sent after it (checked below).
  [ -e "$NR_TMP/loopback.log" ] && fail "a container reached the host's loopback: $(cat "$NR_TMP/loopback.log")"
  # Without the guard the same packet arrives: the test can fail.
  ip netns exec "$NR_NS" nft delete chain ip "sandbox_net_$NR_BR" loopback_guard
  runuser -u "$IT_USER" -- nsenter -t "$app" -U -n sh -c "$send" unguarded
  nr_wait '[ -e "$NR_TMP/loopback.log" ]' 20 || fail "the unguarded packet did not arrive either; the attack is not shown"
  assert_contains "$(cat "$NR_TMP/loopback.log")" "unguarded"
  assert_not_contains "$(cat "$NR_TMP/loopback.log")" " guarded"
  nr_sbx stop nrdns >/dev/null
  # --dns-stub none takes the forwarding away again.
  ip netns exec "$NR_NS" "$NR_SETUP" --bridge "$NR_BR" --subnet "$NR_GW/24" --dns-stub none >/dev/null
  assert_eq "$(ip netns exec "$NR_NS" cat /proc/sys/net/ipv4/conf/$NR_BR/route_localnet)" "0" "route_localnet after --dns-stub none"
  out=$(nr_sbx run nrdns -- -c 'timeout 10 getent hosts stub.it.example || echo "stub: not found"' 2>&1)
  assert_contains "$out" "stub: not found"
}

# A host nameserver the bridge can reach is copied as it is.
test_netrun_veth_dns_copies_a_reachable_nameserver() {
  nr_setup
  it_usernet <<<"$IT_USER veth $NR_BR 1"
  ip -n "$NR_NS" addr add 10.206.0.53/32 dev lo
  nr_resolv_conf <<<"nameserver 10.206.0.53"
  nr_dns 10.206.0.53 direct.it.example 10.9.8.6
  nr_profile nrdns2 veth
  local out; out=$(nr_sbx run nrdns2 -- -c 'cat /etc/resolv.conf; getent hosts direct.it.example | tr -s " "' 2>&1)
  echo "$out"
  assert_contains "$out" "nameserver 10.206.0.53"
  assert_not_contains "$out" "nameserver $NR_GW"
  assert_contains "$out" "10.9.8.6 direct.it.example"
  assert_contains "$(cat "$NR_TMP/dns.log")" "10.204.0."
}
