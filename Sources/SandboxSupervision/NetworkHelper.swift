// The launcher's side of container networking.
//
// veth (network.mode = "veth"), from the supervisor, after clone and before
// the child is released (ContainerHooks.beforeRelease):
//   1. open /proc/PID/ns/net of the container's init
//   2. SandboxNetHelper.create(bridge:netnsFD:) runs the setuid helper with
//      that fd as fd 3; the helper creates the veth pair on the bridge with
//      the peer born in the container's namespace and prints the lease
//   3. VethLease.configureContainerSide(containerPID:) forks (in C), joins
//      the container's user+net namespaces as their owner and sets lo up,
//      the address, MTU, link up and the default route
// The pair disappears with the container's network namespace; the helper
// reclaims the lease at its next call, so nothing is needed at teardown.
// ContainerNetwork.attachVeth does 1-3 in one call.
//
// pasta (network.mode = "pasta"): PastaProcess.start(containerPID:pidFile:)
// before the child is released, while /proc/PID/ns of the user's own child
// can still be opened (pasta joins its user and network namespaces; an
// unmapped user namespace is fine), and stop() when the container has exited: pasta outlives the namespace it
// serves otherwise (measured with passt 2023-03-09).
import CSandboxNet
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 address in network byte order, as the kernel and sbxnet_configure_iface take it.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    public var networkOrder: UInt32
    public init(networkOrder: UInt32) { self.networkOrder = networkOrder }
    /// Strict dotted quad ("10.0.3.2"; no leading zeros, no spaces).
    public init?(_ text: String) {
        var be: UInt32 = 0
        let rc = text.withCString { sbxnet_parse_ipv4($0, strlen($0), &be) }
        guard rc == 0 else { return nil }
        networkOrder = be
    }
    public var description: String {
        var buf = [CChar](repeating: 0, count: 16)
        sbxnet_format_ipv4(networkOrder, &buf)
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// One veth pair handed out by sandbox-net, parsed from its single output line:
/// `host=sbx1000a0 container=eth0 address=10.0.3.2/24 gateway=10.0.3.1 mtu=1500`.
public struct VethLease: Sendable, Equatable {
    public var hostInterface: String
    public var containerInterface: String
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address
    public var mtu: Int

    public init(hostInterface: String, containerInterface: String, address: IPv4Address, prefixLength: Int,
                gateway: IPv4Address, mtu: Int) {
        self.hostInterface = hostInterface
        self.containerInterface = containerInterface
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.mtu = mtu
    }

    /// Exactly the five keys, in order; anything else is nil.
    public init?(helperOutput line: some StringProtocol) {
        var text = Substring(line)
        if text.hasSuffix("\n") { text = text.dropLast() }
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        let keys = ["host", "container", "address", "gateway", "mtu"]
        guard fields.count == keys.count else { return nil }
        var values: [String] = []
        for (field, key) in zip(fields, keys) {
            guard field.hasPrefix(key + "=") else { return nil }
            values.append(String(field.dropFirst(key.count + 1)))
        }
        let cidr = values[2].split(separator: "/", omittingEmptySubsequences: false)
        guard sbxnet_valid_ifname(values[0]) == 1, sbxnet_valid_ifname(values[1]) == 1,
              cidr.count == 2, let address = IPv4Address(String(cidr[0])),
              let prefix = Int(cidr[1]), (1...32).contains(prefix), String(prefix) == cidr[1],
              let gateway = IPv4Address(values[3]),
              let mtu = Int(values[4]), (68...65535).contains(mtu), String(mtu) == values[4]
        else { return nil }
        self.init(hostInterface: values[0], containerInterface: values[1], address: address,
                  prefixLength: prefix, gateway: gateway, mtu: mtu)
    }

    /// The helper's line for this lease (the inverse of `init(helperOutput:)`).
    public var helperOutput: String {
        "host=\(hostInterface) container=\(containerInterface) address=\(address)/\(prefixLength) gateway=\(gateway) mtu=\(mtu)"
    }

    /// Configures the container's side from outside: a forked C child joins the
    /// container's user and network namespaces (the caller owns them) and sets
    /// lo up, the address, the MTU, the link up and the default route.
    /// Works before the id maps are written.
    public func configureContainerSide(containerPID: Int32) throws {
        let user = open("/proc/\(containerPID)/ns/user", O_RDONLY | O_CLOEXEC)
        let net = open("/proc/\(containerPID)/ns/net", O_RDONLY | O_CLOEXEC)
        defer {
            if user >= 0 { close(user) }
            if net >= 0 { close(net) }
        }
        guard user >= 0, net >= 0 else {
            throw SandboxError("cannot open the namespaces of container process \(containerPID): \(errnoText(errno))")
        }
        try configureContainerSide(userNamespaceFD: user, networkNamespaceFD: net)
    }

    public func configureContainerSide(userNamespaceFD: Int32, networkNamespaceFD: Int32) throws {
        let rc = sbxnet_configure_in_namespaces(userNamespaceFD, networkNamespaceFD, containerInterface,
                                                address.networkOrder, Int32(prefixLength),
                                                gateway.networkOrder, Int32(mtu))
        guard rc == 0 else {
            throw SandboxError("cannot configure \(containerInterface) (\(address)/\(prefixLength) via \(gateway)) in the container: \(errnoText(-rc))")
        }
    }
}

/// One line of `sandbox-net check`: a bridge the caller may use, for `sandbox doctor`.
public struct BridgeGrant: Sendable, Equatable {
    public var bridge: String
    public var quota: Int
    public var used: Int
    /// "ok", "missing", "not-a-bridge", "no-address" or "subnet-too-small".
    public var state: String
    /// The bridge's address/prefix ("10.0.3.1/24"), nil when unusable.
    public var gateway: String?
}

/// The installed setuid helper (PREFIX/libexec/sandbox/sandbox-net).
public struct SandboxNetHelper: Sendable {
    public var path: String
    public init(path: String) { self.path = path }

    /// PREFIX/bin/sandbox → PREFIX/libexec/sandbox/sandbox-net; from a build tree,
    /// the first installed one of /usr/local and /usr.
    public static func installed(executable: String = Paths.executablePath()) -> SandboxNetHelper {
        let besideUs = HostFile.dirname(HostFile.dirname(executable)) + "/libexec/sandbox/sandbox-net"
        for candidate in [besideUs, "/usr/local/libexec/sandbox/sandbox-net", "/usr/libexec/sandbox/sandbox-net"]
        where access(candidate, X_OK) == 0 {
            return SandboxNetHelper(path: candidate)
        }
        return SandboxNetHelper(path: besideUs)
    }

    /// Creates a veth pair on `bridge` whose peer appears as `containerInterface`
    /// in the network namespace open at `netnsFD` (the container's /proc/PID/ns/net).
    public func create(bridge: String, containerInterface: String = "eth0", netnsFD: Int32) throws -> VethLease {
        let out = try run(["create", "--bridge", bridge, "--name", containerInterface], fd3: netnsFD)
        guard let lease = VethLease(helperOutput: out) else {
            throw SandboxError("\(path) printed an unexpected line: \(out)",
                               hint: "the helper and sandbox come from different versions; reinstall both")
        }
        return lease
    }

    /// Deletes the pair and its lease (the container loses its network).
    public func release(bridge: String, hostInterface: String) throws {
        _ = try run(["release", "--bridge", bridge, hostInterface], fd3: nil)
    }

    /// The caller's live leases, one `bridge=… host=… address=… netns=…` line each.
    public func leases() throws -> [String] {
        try run(["list"], fd3: nil).split(separator: "\n").map(String.init)
    }

    /// The bridges /etc/sandbox/usernet grants the caller, with quota and use.
    public func check() throws -> [BridgeGrant] {
        let out = try run(["check"], fd3: nil)
        return out.split(separator: "\n").dropFirst().compactMap { line in
            var kv: [String: String] = [:]
            for f in line.split(separator: " ") {
                if let eq = f.firstIndex(of: "=") { kv[String(f[..<eq])] = String(f[f.index(after: eq)...]) }
            }
            guard let b = kv["bridge"], let q = kv["quota"].flatMap({ Int($0) }),
                  let u = kv["used"].flatMap({ Int($0) }), let s = kv["state"] else { return nil }
            return BridgeGrant(bridge: b, quota: q, used: u, state: s, gateway: kv["gateway"] == "-" ? nil : kv["gateway"])
        }
    }

    /// Runs the helper with an empty environment, stdin from /dev/null, fd 3 = fd3;
    /// returns stdout, or throws with the helper's own message.
    func run(_ arguments: [String], fd3: Int32?) throws -> String {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SandboxError("the network helper \(path) is not installed",
                               hint: "an administrator runs `sudo make install` and grants bridges in /etc/sandbox/usernet (see sandbox-net(8)); or use network.mode = \"pasta\"")
        }
        guard st.st_uid == 0, st.st_mode & S_ISUID != 0 else {
            throw SandboxError("the network helper \(path) is not setuid root",
                               hint: "install it as root: `sudo make install` (see sandbox-net(8))")
        }
        // Exactly fd 3 (or nothing) and an empty environment: the helper is setuid root.
        let result = try HostCommand([path] + arguments, environment: [:]).run(passing: fd3.map { [$0] } ?? [])
        guard result.status == 0 else {
            var message = result.errorOutput
            while message.hasSuffix("\n") { message.removeLast() }
            if message.isEmpty { message = "\(path) failed (status \(result.status))" }
            throw SandboxError(message, hint: result.status == 1 && message.contains("usernet")
                ? "see sandbox-net(8) for the /etc/sandbox/usernet format" : nil)
        }
        var out = result.output
        while out.hasSuffix("\n") { out.removeLast() }
        return out
    }
}

/// veth networking in one call, for the supervisor's beforeRelease hook.
public enum ContainerNetwork {
    /// Creates the pair for `containerPID`'s network namespace and configures the
    /// container's side; releases the pair again if configuring fails.
    public static func attachVeth(containerPID: Int32, bridge: String, containerInterface: String = "eth0",
                                  helper: SandboxNetHelper = .installed()) throws -> VethLease {
        let netns = open("/proc/\(containerPID)/ns/net", O_RDONLY | O_CLOEXEC)
        guard netns >= 0 else {
            throw SandboxError("cannot open the network namespace of container process \(containerPID): \(errnoText(errno))")
        }
        defer { close(netns) }
        let lease = try helper.create(bridge: bridge, containerInterface: containerInterface, netnsFD: netns)
        do {
            try lease.configureContainerSide(containerPID: containerPID)
        } catch {
            try? helper.release(bridge: bridge, hostInterface: lease.hostInterface)
            throw error
        }
        return lease
    }
}

/// pasta (passt) giving a container user-mode networking: no privileges, no bridge.
public struct PastaProcess: Sendable {
    /// The daemon's pid (read from its pid file).
    public let pid: Int32

    /// Outbound connections only, whatever the caller adds (issue 9 #5). pasta's own
    /// defaults (passt 2023-03-09, Debian 12) open the host to the app both ways:
    ///   - the gateway address is the host's loopback: `--no-map-gw` turns that off;
    ///   - `-T auto`/`-U auto`: every port bound on the host's loopback is also the
    ///     container's 127.0.0.1:PORT (CUPS, databases, the user's dev servers): `-T none -U none`;
    ///   - `-t auto`/`-u auto`: every port the app binds inside is opened on all of the
    ///     host's interfaces, reachable from the LAN: `-t none -u none`.
    /// veth already drops bridge→127/8 (CVE-2020-8558); this makes pasta match it.
    /// The container still reaches the host's other addresses like any machine on
    /// the network would, and DNS through `--dns-forward` (a separate mapping).
    /// (`arguments(for:)` in SandboxRuntime opens the ports a profile names.)
    public static let outboundOnly = ["--no-map-gw", "-t", "none", "-u", "none", "-T", "none", "-U", "none"]

    /// Starts pasta for `containerPID` (joining its user and network namespaces,
    /// which the caller must still be allowed to open) with `--config-net`: pasta configures
    /// the container's interface, address and routes from the host's. Returns
    /// once pasta has daemonized, i.e. the namespace is configured.
    /// `forwarding` names the ports to open (`arguments(for:)`, planned by the
    /// launcher from the profile); the default opens none.
    public static func start(containerPID: Int32, pidFile: String, executable: String? = nil,
                             forwarding: [String] = outboundOnly,
                             extraArguments: [String] = []) throws -> PastaProcess {
        guard let pasta = executable ?? HostCommand.find("pasta") else {
            throw SandboxError("network.mode = \"pasta\" needs pasta, which is not installed",
                               hint: "install the `passt` package (apt install passt)")
        }
        if access("/dev/net/tun", R_OK | W_OK) != 0 {
            throw SandboxError("pasta cannot open /dev/net/tun: \(errnoText(errno))",
                               hint: "desktops ship /dev/net/tun with mode 0666 (udev); an administrator can run `chmod 0666 /dev/net/tun`")
        }
        unlink(pidFile)
        // Nothing of ours (environment, descriptors): pasta is a long-lived daemon.
        let result = try HostCommand([pasta, "--config-net", "--quiet", "--pid", pidFile] + forwarding + extraArguments
                                     + [String(containerPID)], environment: [:]).run(passing: [])
        let detail = result.errorOutput.split(separator: "\n").filter { !$0.contains("syslog") }.joined(separator: "; ")
        guard result.status == 0 else {
            throw SandboxError("pasta failed for container process \(containerPID) (status \(result.status)): \(detail)")
        }
        guard let daemon = running(pidFile: pidFile) else {
            throw SandboxError("pasta started but left no pid in \(pidFile)")
        }
        return daemon
    }

    /// Stops pasta (it would otherwise keep the dead container's namespace alive).
    /// Checks the pid still names a pasta process first.
    public func stop() {
        var buf = [UInt8](repeating: 0, count: 256)
        let fd = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let n = read(fd, &buf, buf.count)
        close(fd)
        let argv0 = String(decoding: buf.prefix(max(n, 0)).prefix { $0 != 0 }, as: UTF8.self)
        guard argv0.split(separator: "/").last?.hasPrefix("pasta") == true ||
              argv0.split(separator: "/").last?.hasPrefix("passt") == true else { return }
        // pasta blocks SIGTERM (measured, passt 2023-03-09) and keeps no state: KILL it.
        kill(pid, SIGKILL)
    }

    /// The pasta started for a container whose pid file is `pidFile` (for a
    /// teardown that did not keep the PastaProcess); nil if there is none.
    public static func running(pidFile: String) -> PastaProcess? {
        let fd = open(pidFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = read(fd, &buf, buf.count)
        let text = String(decoding: buf.prefix(max(n, 0)), as: UTF8.self).split(separator: "\n").first ?? ""
        guard let pid = Int32(text), pid > 0 else { return nil }
        return PastaProcess(pid: pid)
    }
}
