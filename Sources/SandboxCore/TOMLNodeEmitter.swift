// Any parsed TOML tree written back as TOML: one `"key" = value` line per
// top-level key, tables as inline tables, every key quoted. The fuzz tests
// check that what the parser accepts survives this round trip (same values,
// same types); `sandbox profile show` uses the profile emitter instead.

extension TOMLEmitter {
    static func emit(document: TOMLNode) -> String {
        guard case .table(let entries) = document.value else { return "" }
        var out = ""
        for e in entries {
            out += quoted(e.key) + " = "
            value(e.node, &out)
            out += "\n"
        }
        return out
    }

    private static func value(_ node: TOMLNode, _ out: inout String) {
        switch node.value {
        case .string(let s): out += quoted(s)
        case .integer(let i): out += String(i)
        case .bool(let b): out += String(b)
        case .datetime(let t): out += t
        case .float(let d):
            if d.isNaN { out += "nan" } else if d.isInfinite { out += d < 0 ? "-inf" : "inf" } else {
                // Swift writes 1e+22 and 5.0: both TOML floats, neither an integer.
                let text = String(d)
                out += text.contains(".") || text.contains("e") ? text : text + ".0"
            }
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                value(item, &out)
            }
            out += "]"
        case .table(let entries):
            out += "{"
            for (i, e) in entries.enumerated() {
                out += (i > 0 ? ", " : " ") + quoted(e.key) + " = "
                value(e.node, &out)
            }
            out += entries.isEmpty ? "}" : " }"
        }
    }
}

extension TOMLNode {
    /// Same values and types, whatever the lines (nan equals nan).
    func sameValue(as other: TOMLNode) -> Bool {
        switch (value, other.value) {
        case (.string(let a), .string(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.datetime(let a), .datetime(let b)): return a == b
        case (.float(let a), .float(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.sameValue(as: $1) }
        case (.table(let a), .table(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.node.sameValue(as: $1.node) }
        default: return false
        }
    }
}
