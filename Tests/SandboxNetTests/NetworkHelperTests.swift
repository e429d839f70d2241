// The launcher's side: parsing the helper's line, finding it, and configuring
// a real network namespace from outside with sbxnet_configure_in_namespaces.
import CSandboxNet
import SandboxCore
@testable import SandboxRuntime
import Testing
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

@Test func vethLeaseParsesTheHelperLine() throws {
    let line = "host=sbx1000a0 container=eth0 address=10.203.0.2/24 gateway=10.203.0.1 mtu=1500\n"
    let lease = try #require(VethLease(helperOutput: line))
    #expect(lease.hostInterface == "sbx1000a0")
    #expect(lease.containerInterface == "eth0")
    #expect(lease.address.description == "10.203.0.2")
    #expect(lease.address.networkOrder == UInt32(10) | UInt32(203) << 8 | UInt32(2) << 24)
    #expect(lease.prefixLength == 24)
    #expect(lease.gateway == IPv4Address("10.203.0.1"))
    #expect(lease.mtu == 1500)
    #expect(lease.helperOutput + "\n" == line)
}

@Test(arguments: [
    "host=sbx1000a0 container=eth0 address=10.203.0.2/24 gateway=10.203.0.1",
    "host=sbx1000a0 container=eth0 address=10.203.0.2/24 gateway=10.203.0.1 mtu=1500 extra=1",
    "container=eth0 host=sbx1000a0 address=10.203.0.2/24 gateway=10.203.0.1 mtu=1500",
    "host=sbx1000a0 container=eth0 address=10.203.0.2 gateway=10.203.0.1 mtu=1500",
    "host=sbx1000a0 container=eth0 address=10.203.0.2/024 gateway=10.203.0.1 mtu=1500",
    "host=sbx1000a0 container=eth0 address=10.203.0.2/33 gateway=10.203.0.1 mtu=1500",
    "host=sbx1000a0 container=eth0 address=10.203.0.2/24 gateway=10.203.0.1 mtu=15000000",
    "host=sbx1000a0 container=eth/0 address=10.203.0.2/24 gateway=10.203.0.1 mtu=1500",
    "host=sbx1000a0  container=eth0 address=10.203.0.2/24 gateway=10.203.0.1 mtu=1500",
    "sandbox-net: quota reached",
    "",
])
func vethLeaseRejectsAnythingElse(line: String) {
    #expect(VethLease(helperOutput: line) == nil)
}

@Test func helperIsFoundBesideTheExecutable() throws {
    let tmp = TemporaryDirectory(prefix: "sbxnet-test")
    defer { tmp.remove() }
    let dir = tmp.path
    tmp.makeDirectories("bin")
    tmp.makeDirectories("libexec/sandbox")
    let helper = dir + "/libexec/sandbox/sandbox-net"
    close(open(helper, O_WRONLY | O_CREAT, 0o755))
    #expect(SandboxNetHelper.installed(executable: dir + "/bin/sandbox").path == helper)
}

@Test func missingOrNonSetuidHelperSaysHowToInstall() throws {
    let missing = SandboxNetHelper(path: "/nonexistent/libexec/sandbox/sandbox-net")
    let e1 = #expect(throws: SandboxError.self) { try missing.check() }
    #expect(e1?.message.contains("is not installed") == true)
    #expect(e1?.hint?.contains("make install") == true)
    let plain = SandboxNetHelper(path: "/bin/true")   // root-owned, but not setuid
    let e2 = #expect(throws: SandboxError.self) { try plain.check() }
    #expect(e2?.message.contains("not setuid root") == true)
}

/// A real unprivileged user+net namespace with a veth eth0, configured from
/// outside as the supervisor will (a forked child joins its namespaces).
@Test func configureContainerSideSetsAddressMTURouteAndLoopback() throws {
    let started = try HostCommand(["/bin/sh", "-c",
        "unshare --user --map-root-user --net sh -c 'ip link add eth0 type veth peer name peer0 && exec sleep 30' </dev/null >/dev/null 2>&1 & echo $!"]).run(passing: [])
    let pid = try #require(Int32(started.output.split(separator: "\n").first ?? ""))
    defer {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
    func inside(_ args: [String]) throws -> String {
        try HostCommand(["/usr/bin/nsenter", "-t", String(pid), "-U", "-n", "--preserve-credentials"] + args).run(passing: []).output
    }
    var ready = false
    for _ in 0..<100 {
        if (try? inside(["/sbin/ip", "-o", "link", "show", "eth0"]))?.contains("eth0") == true { ready = true; break }
        usleep(20_000)
    }
    try #require(ready, "unprivileged user namespaces are needed for this test")

    let lease = try #require(VethLease(helperOutput: "host=sbx0a0 container=eth0 address=10.77.0.2/24 gateway=10.77.0.1 mtu=1400"))
    try lease.configureContainerSide(containerPID: pid)

    let addr = try inside(["/sbin/ip", "-o", "-4", "addr", "show", "eth0"])
    #expect(addr.contains("inet 10.77.0.2/24 brd 10.77.0.255"))
    let link = try inside(["/sbin/ip", "-o", "link", "show", "eth0"])
    #expect(link.contains("mtu 1400") && link.contains(",UP"))
    #expect(try inside(["/sbin/ip", "-o", "link", "show", "lo"]).contains(",UP"))
    #expect(try inside(["/sbin/ip", "route"]).contains("default via 10.77.0.1 dev eth0"))

    // A missing interface is an error naming it, not a crash.
    let wrong = try #require(VethLease(helperOutput: "host=sbx0a0 container=eth9 address=10.77.0.3/24 gateway=10.77.0.1 mtu=1400"))
    let e = #expect(throws: SandboxError.self) { try wrong.configureContainerSide(containerPID: pid) }
    #expect(e?.message.contains("eth9") == true)
}

/// A process holding a network namespace of its own (in a user namespace, as a
/// container's init), already in it, and a temporary directory for pasta's pid file.
func pastaFixture(seconds: Int) throws -> (pid: Int32, dir: String) {
    let started = try HostCommand(["/bin/sh", "-c",
        "unshare --user --map-root-user --net sleep \(seconds) </dev/null >/dev/null 2>&1 & echo $!"]).run(passing: [])
    let pid = try #require(Int32(started.output.split(separator: "\n").first ?? ""))
    var own = stat(), theirs = stat()
    for _ in 0..<100 {
        stat("/proc/self/ns/net", &own)
        if stat("/proc/\(pid)/ns/net", &theirs) == 0 && theirs.st_ino != own.st_ino { break }
        usleep(20_000)
    }
    return (pid, TemporaryDirectory(prefix: "sbxnet-pasta").path)
}

func pastaFixtureDone(_ pid: Int32, _ dir: String?) {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    if let dir { TemporaryDirectory(adopting: dir).remove() }
}

/// pasta attached to a real namespace by pid: the interface gets an address
/// and a default route, and stop() ends pasta (which would outlive the namespace).
@Test(.enabled(if: HostRequirements.namespaces, "needs unprivileged user and network namespaces"),
      .enabled(if: HostCommand.find("pasta") != nil && access("/dev/net/tun", R_OK | W_OK) == 0,
               "needs pasta and a usable /dev/net/tun (desktops: 0666 via udev)"))
func pastaConfiguresTheNamespaceAndStops() throws {
    let (pid, dir) = try pastaFixture(seconds: 30)
    defer { pastaFixtureDone(pid, dir) }

    // As root (CI) pasta would drop to nobody, who may not enter root's namespace.
    let pasta = try PastaProcess.start(containerPID: pid, pidFile: dir + "/pasta.pid",
                                       executable: HostCommand.find("pasta") ?? "/usr/bin/pasta",
                                       extraArguments: getuid() == 0 ? ["--runas", "0"] : [])
    #expect(PastaProcess.running(pidFile: dir + "/pasta.pid")?.pid == pasta.pid)
    #expect(kill(pasta.pid, 0) == 0)
    let inside = try HostCommand(["/usr/bin/nsenter", "-t", String(pid), "-U", "-n", "--preserve-credentials",
                                  "/bin/sh", "-c", "/sbin/ip -o -4 addr; /sbin/ip route"]).run(passing: []).output
    #expect(inside.split(separator: "\n").contains { $0.contains("inet ") && !$0.contains(" lo ") }, "\(inside)")
    #expect(inside.contains("default via"), "\(inside)")
    pasta.stop()
    // Gone, or a zombie waiting for init to reap it (pasta daemonized).
    func alive() -> Bool {
        let fd = open("/proc/\(pasta.pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buf, buf.count)
        guard n > 0, let close = buf.prefix(n).lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
        return buf[close + 2] != UInt8(ascii: "Z")
    }
    var gone = false
    for _ in 0..<250 {
        if !alive() { gone = true; break }
        usleep(20_000)
    }
    #expect(gone, "pasta still runs after stop()")
}

/// Issue 9 #5: pasta's own defaults open the host both ways; ours are outbound only,
/// opened per named port, inbound on the host's loopback only.
@Test func pastaArgumentsAreOutboundOnlyUnlessPortsAreNamed() {
    #expect(PastaProcess.outboundOnly == ["--no-map-gw", "-t", "none", "-u", "none", "-T", "none", "-U", "none"])
    // The supervisor's default and the launcher's plan for a profile without forwards agree.
    #expect(PastaProcess.arguments(for: Profile.Network()) == PastaProcess.outboundOnly)
    var net = Profile.Network()
    net.mode = .pasta
    net.inboundTCP = [8080, 8081]
    net.hostLoopbackUDP = [53, 5353]
    #expect(PastaProcess.arguments(for: net) == ["--no-map-gw", "-t", "127.0.0.1/8080", "-t", "127.0.0.1/8081", "-u", "none",
                                                 "-T", "none", "-U", "53,5353"])
}

/// The named ports, end to end through a real pasta: the container reaches the
/// host loopback port it names and no other; the host reaches the container's
/// named port at 127.0.0.1 only.
@Test(.enabled(if: HostRequirements.namespaces, "needs unprivileged user and network namespaces"),
      .enabled(if: HostCommand.find("pasta") != nil && HostCommand.find("python3") != nil
               && access("/dev/net/tun", R_OK | W_OK) == 0,
               "needs pasta, python3 and a usable /dev/net/tun (desktops: 0666 via udev)"))
func pastaOpensOnlyTheNamedPorts() throws {
    let (pid, dir) = try pastaFixture(seconds: 60)
    defer { pastaFixtureDone(pid, dir) }

    // Ports of our own (other test runs may share the machine).
    let base = 20000 + Int(getpid() % 10000) * 3
    let (named, other, inbound) = (base, base + 1, base + 2)
    var net = Profile.Network()
    net.mode = .pasta
    net.hostLoopbackTCP = [named]
    net.inboundTCP = [inbound]
    // Host loopback services first: pasta reads which ports exist only for "auto".
    let servers = try HostCommand(["/bin/sh", "-c", """
        for p in \(named) \(other); do
          timeout 30 python3 -c 'import socket, sys
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
        while True:
            c, _ = s.accept(); c.sendall(b"host-" + sys.argv[1].encode() + b"\\n"); c.close()' $p </dev/null >/dev/null 2>&1 &
          echo $!
        done
        sleep 0.5
        """]).run(passing: [])
    #expect(servers.status == 0)
    // `timeout` passes the SIGTERM on to its python.
    defer { for p in servers.output.split(separator: "\n").compactMap({ Int32($0) }) { kill(p, SIGTERM) } }

    let pasta = try PastaProcess.start(containerPID: pid, pidFile: dir + "/pasta.pid",
                                       executable: HostCommand.find("pasta") ?? "/usr/bin/pasta",
                                       forwarding: PastaProcess.arguments(for: net), extraArguments: getuid() == 0 ? ["--runas", "0"] : [])
    defer { pasta.stop() }
    let script = """
        inside() { /usr/bin/nsenter -t \(pid) -U -n --preserve-credentials "$@"; }
        try() { timeout 3 bash -c "exec 5<>/dev/tcp/127.0.0.1/$1 && head -n 1 <&5" 2>/dev/null || echo CLOSED; }
        echo "named: $(inside bash -c "$(declare -f try); try \(named)")"
        echo "other: $(inside bash -c "$(declare -f try); try \(other)")"
        inside timeout 10 python3 -c 'import socket
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", \(inbound))); s.listen(1); print("READY", flush=True)
        c, _ = s.accept(); c.sendall(b"inside\\n"); c.close()' >\(dir)/listener.out 2>&1 &
        for i in $(seq 1 50); do grep -q READY \(dir)/listener.out && break; sleep 0.1; done
        echo "inbound: $(try \(inbound))"
        echo "bound: $(ss -Hltn 'sport = :\(inbound)' | awk '{print $4}' | tr '\\n' ' ')"
        wait
        """
    let out = try HostCommand(["/bin/bash", "-c", script]).run(passing: []).output
    #expect(out.contains("named: host-\(named)\n"), "\(out)")
    #expect(out.contains("other: CLOSED\n"), "\(out)")
    #expect(out.contains("inbound: inside\n"), "\(out)")
    #expect(out.contains("bound: 127.0.0.1:\(inbound) \n"), "\(out)")
}

/// How the helper is started: the namespace fd lands on fd 3, nothing else is
/// inherited, the environment is empty, stdin is /dev/null, and stdout and
/// stderr come back separately with the exit status.
@Test func helperProcessGetsFd3AndNothingElse() throws {
    let ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
    try #require(ns >= 0)
    defer { close(ns) }
    let leaked = open("/dev/null", O_RDONLY)   // not close-on-exec: must still not reach the helper
    defer { close(leaked) }
    let script = "readlink /proc/self/fd/3; ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; env | wc -l; "
        + "readlink /proc/self/fd/0; echo oops >&2; exit 7"
    // As SandboxNetHelper.run starts the setuid helper.
    let r = try HostCommand(["/bin/sh", "-c", script], environment: [:]).run(passing: [ns])
    let lines = r.output.split(separator: "\n").map(String.init)
    #expect(r.status == 7)
    #expect(r.errorOutput == "oops\n")
    var st = stat()
    fstat(ns, &st)
    #expect(lines.first == "net:[\(st.st_ino)]")
    // 0-3 and the fd `ls` opens for /proc/self/fd itself (4); never `leaked`.
    #expect(leaked > 4)
    #expect(lines.count > 1 && lines[1] == "0 1 2 3 4 ", "\(lines)")
    // Only what the shell sets itself (PWD, maybe SHLVL, _).
    #expect(lines.count > 2 && (Int(lines[2].filter { $0 != " " }) ?? 99) <= 3, "\(lines)")
    #expect(lines.last == "/dev/null")
}
