// The result of `sandbox doctor`: one finding per check, printed as
// `ok|WARN|FAIL  <check>: <finding>` plus a fix-it line, or as JSON. Pure values,
// so the wording and the exit status are unit-tested without touching the host.

/// One thing `doctor` looked at.
public struct DoctorCheck: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable, CaseIterable {
        /// Works.
        case ok
        /// Something optional is missing or degraded; `run` still works.
        case warn
        /// `run` cannot work (for every profile, or for every profile that needs this).
        case fail

        /// The column printed in front of each line.
        public var label: String {
            switch self {
            case .ok: "ok"
            case .warn: "WARN"
            case .fail: "FAIL"
            }
        }
    }

    /// A short stable name, e.g. `user-namespaces`, `x11`, `pulseaudio`.
    public var name: String
    public var status: Status
    /// What was found, in words.
    public var finding: String
    /// How to fix it; printed only when the status is not ok.
    public var hint: String?

    public init(_ name: String, _ status: Status, _ finding: String, hint: String? = nil) {
        self.name = name
        self.status = status
        self.finding = finding
        self.hint = hint
    }
}

/// Every check, in the order they ran.
public struct DoctorReport: Sendable, Equatable {
    public var checks: [DoctorCheck]
    public init(_ checks: [DoctorCheck]) { self.checks = checks }

    /// Whether `sandbox run` can work: no check failed. WARN lines do not count.
    public var runCanWork: Bool { !checks.contains { $0.status == .fail } }

    /// Exit status of `sandbox doctor`: 0 when `run` can work, 1 otherwise.
    public var exitStatus: Int32 { runCanWork ? 0 : 1 }

    /// The human form: `ok    name: finding`, then `      hint: …` when not ok.
    public var text: String {
        var out = ""
        for c in checks {
            out += c.status.label.padding(to: 6) + c.name + ": " + c.finding + "\n"
            if c.status != .ok, let hint = c.hint {
                out += "      hint: " + hint + "\n"
            }
        }
        return out
    }

    /// `{"ok": BOOL, "checks": [{"name":…, "status":"ok|warn|fail", "finding":…, "hint":…}]}`
    public var json: String {
        var out = "{\"ok\": \(runCanWork), \"checks\": ["
        out += checks.map { c in
            var o = "{\"name\": \(JSONText.quote(c.name)), \"status\": \(JSONText.quote(c.status.rawValue)), "
            o += "\"finding\": \(JSONText.quote(c.finding))"
            o += ", \"hint\": " + (c.hint.map(JSONText.quote) ?? "null")
            return o + "}"
        }.joined(separator: ", ")
        return out + "]}\n"
    }
}

/// JSON string quoting without Foundation (RFC 8259: quote, backslash and control characters escaped).
public enum JSONText {
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
