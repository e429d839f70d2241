// pasta (network.mode = "pasta"): PastaProcess.start(containerPID:pidFile:)
// before the child is released, while /proc/PID/ns of the user's own child
// can still be opened (pasta joins its user and network namespaces; an
// unmapped user namespace is fine), and stop() when the container has exited: pasta outlives the namespace it
// serves otherwise (measured with passt 2023-03-09).
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

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
            throw SandboxError.system("pasta cannot open /dev/net/tun", errno: errno,
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
