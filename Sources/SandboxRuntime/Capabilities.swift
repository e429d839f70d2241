// Capability policy for the app: it keeps none. The C child (CSandboxSpawn) does
// the work between clone and exec — PR_CAPBSET_DROP for 0…63 (EINVAL past the
// running kernel's last), PR_CAP_AMBIENT_CLEAR_ALL, capset to empty, then
// no_new_privs. The verifier here reads /proc/PID/status afterwards (tests,
// `sandbox doctor`).
import CLibcap
import Glibc
import SandboxCore

public enum Capability {
    /// "cap_sys_admin", or "cap_N" for a number libcap does not know.
    public static func name(of capability: Int32) -> String {
        guard let c = cap_to_name(capability) else { return "cap_\(capability)" }
        defer { cap_free(c) }
        return String(cString: c)
    }
}

/// The security-relevant lines of /proc/PID/status.
public struct ProcessSecurityStatus: Sendable, Equatable {
    public var inheritable: UInt64
    public var permitted: UInt64
    public var effective: UInt64
    public var bounding: UInt64
    public var ambient: UInt64
    public var noNewPrivs: Bool
    /// 0 disabled, 1 strict, 2 filter.
    public var seccompMode: Int
    /// Number of filters stacked (Linux 5.9+; nil when the kernel does not say).
    public var seccompFilters: Int?

    /// Parses the text of /proc/PID/status; throws naming the missing line.
    public init(statusText: String) throws {
        var fields: [Substring: Substring] = [:]
        for line in statusText.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...]
        }
        func field(_ key: Substring) throws -> String {
            guard let v = fields[key] else { throw SandboxError("/proc/PID/status has no '\(key)' line") }
            return String(v).trimmingWhitespace()
        }
        func hexField(_ key: Substring) throws -> UInt64 {
            let v = try field(key)
            guard let n = UInt64(v, radix: 16) else { throw SandboxError("/proc/PID/status: '\(key)' is not hex: \(v)") }
            return n
        }
        func intField(_ key: Substring) throws -> Int {
            let v = try field(key)
            guard let n = Int(v) else { throw SandboxError("/proc/PID/status: '\(key)' is not a number: \(v)") }
            return n
        }
        inheritable = try hexField("CapInh")
        permitted = try hexField("CapPrm")
        effective = try hexField("CapEff")
        bounding = try hexField("CapBnd")
        ambient = try hexField("CapAmb")
        noNewPrivs = try intField("NoNewPrivs") == 1
        seccompMode = try intField("Seccomp")
        seccompFilters = fields["Seccomp_filters"] == nil ? nil : try intField("Seccomp_filters")
    }

    /// Reads /proc/PID/status (or /proc/self/status).
    public static func read(pid: pid_t? = nil) throws -> ProcessSecurityStatus {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        return try ProcessSecurityStatus(statusText: try readSmallFile(path))
    }

    /// What is wrong for an app process, one line each; empty when it is confined
    /// as the engine promises: no capabilities in any set, no_new_privs, and a
    /// seccomp filter unless the profile said `seccomp.profile = "none"`.
    public func problems(expectingFilter: Bool) -> [String] {
        var problems: [String] = []
        for (set, value) in [("inheritable", inheritable), ("permitted", permitted), ("effective", effective),
                             ("bounding", bounding), ("ambient", ambient)] where value != 0 {
            let names = (0..<64).filter { value & (UInt64(1) << UInt64($0)) != 0 }
                .map { Capability.name(of: Int32($0)) }
            problems.append("\(set) capability set is not empty: \(names.joined(separator: ","))")
        }
        if !noNewPrivs { problems.append("no_new_privs is not set (setuid binaries could regain privileges)") }
        if expectingFilter && seccompMode != 2 {
            problems.append("no seccomp filter is loaded (Seccomp: \(seccompMode), expected 2)")
        }
        if expectingFilter, let n = seccompFilters, n < 1 { problems.append("Seccomp_filters is \(n), expected at least 1") }
        return problems
    }
}

/// Reads a small /proc or /sys file whole.
private func readSmallFile(_ path: String) throws -> String {
    switch HostFile.readBytes(path) {
    case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
    case .failure(let e): throw SandboxError.system("cannot read \(path)", errno: e.rawValue)
    }
}

extension String {
    // fileprivate: other files of the module keep their own helpers.
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
