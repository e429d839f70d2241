// A parsed TOML document in toml-test's tagged JSON ({"type": "integer", "value":
// "1"}; tables as objects, arrays as arrays), so the public toml-test suite can
// check the parser (Tests/TOML/run.sh through the toml-decode tool). Not used by
// the launcher itself.

public enum TOMLTaggedJSON {
    /// The document as tagged JSON, or the syntax error ("FILE:LINE: message").
    public static func decode(_ bytes: [UInt8], file: String = "-") -> Result<String, ProfileError> {
        TOMLTree.parse(bytes: bytes, file: file).map { node in
            var out = ""
            write(node, to: &out)
            return out + "\n"
        }
    }

    private static func write(_ node: TOMLNode, to out: inout String) {
        switch node.value {
        case .table(let entries):
            out += "{"
            for (i, e) in entries.enumerated() {
                if i > 0 { out += "," }
                out += JSONText.quote(e.key) + ":"
                write(e.node, to: &out)
            }
            out += "}"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .string(let s): tagged("string", s, &out)
        case .integer(let i): tagged("integer", String(i), &out)
        case .float(let d): tagged("float", d.isNaN ? "nan" : String(d), &out)
        case .bool(let b): tagged("bool", String(b), &out)
        case .datetime(let text): tagged(datetimeKind(text), text, &out)
        }
    }

    private static func tagged(_ type: String, _ value: String, _ out: inout String) {
        out += "{\"type\":\"\(type)\",\"value\":" + JSONText.quote(value) + "}"
    }

    /// toml-test's four date/time types, told apart by the text's shape.
    static func datetimeKind(_ text: String) -> String {
        let u = Array(text.utf8)
        let hasDate = u.count >= 10 && u[4] == UInt8(ascii: "-")
        let hasTime = u.contains(UInt8(ascii: ":"))
        if !hasDate { return "time-local" }
        if !hasTime { return "date-local" }
        // An offset: Z or a sign after the time part (position 19 on).
        let tail = u.dropFirst(19)
        if tail.contains(where: { $0 == UInt8(ascii: "Z") || $0 == UInt8(ascii: "z") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) {
            return "datetime"
        }
        return "datetime-local"
    }
}
