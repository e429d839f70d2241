// Talking to the setuid network helper (sandbox-net): it runs with an empty
// environment, stdin from /dev/null and nothing but fd 3 (the container's
// network namespace) passed, since it is setuid root.
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

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
        guard HostFile.isSetuidRoot(st) else {
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
