// A TOML document as plain Swift values, each remembering where it was written
// (file, line, key path), so that merging includes keeps every value's origin and
// validation can point at the exact line in the exact file. TOMLParser reads
// the text (with the line of every key and value); merge applies includes.

struct TOMLNode: Sendable {
    enum Value: Sendable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        /// Dates and times: valid TOML, never valid in a profile; kept as text for the message.
        case datetime(String)
        case array([TOMLNode])
        case table([TOMLEntry])
    }
    var value: Value
    var file: String
    var line: Int?
    var path: KeyPath

    var location: SourceLocation { SourceLocation(file: file, line: line, key: path.description) }

    var entries: [TOMLEntry]? {
        if case .table(let e) = value { return e }
        return nil
    }

    subscript(key: String) -> TOMLNode? {
        entries?.first { $0.key == key }?.node
    }

    /// "a string", "an integer", … for wrong-type messages.
    var typeName: String {
        switch value {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .datetime: "a date/time"
        case .array: "an array"
        case .table: "a table"
        }
    }

    /// A short rendering of the value for messages.
    var shortText: String {
        switch value {
        case .string(let s): TOMLEmitter.quoted(s)
        case .integer(let i): String(i)
        case .float(let d): String(d)
        case .bool(let b): String(b)
        case .datetime(let t): t
        case .array(let a): "[…\(a.count) items]"
        case .table: "{…}"
        }
    }
}

struct TOMLEntry: Sendable {
    var key: String
    var node: TOMLNode
}

enum TOMLTree {
    /// Parses `source` (the text of `file`) into a table node, or one syntax error with its line.
    static func parse(source: String, file: String) -> Result<TOMLNode, ProfileError> {
        parse(bytes: Array(source.utf8), file: file)
    }

    /// The same from the file's bytes, so text that is not UTF-8 is an error rather than repaired.
    static func parse(bytes: [UInt8], file: String) -> Result<TOMLNode, ProfileError> {
        do {
            return .success(try TOMLParser.parse(bytes, file: file))
        } catch {
            return .failure(ProfileError(.syntax, at: SourceLocation(file: file, line: error.line),
                                         "TOML syntax error at column \(error.column): \(error.message)",
                                         hint: error.hint ?? "see https://toml.io/en/v1.0.0 for the syntax"))
        }
    }

    /// Arrays that accumulate across includes (base first) instead of being
    /// replaced, by key path: the mounts and the bus rules.
    static let accumulating: Set<String> = Set(["mount"]).union(
        ["talk", "own", "see", "call", "broadcast"].flatMap { ["dbus.\($0)", "dbus.system.\($0)"] })

    /// Merges `over` onto `base`: tables merge key by key (recursively), every
    /// other value is replaced, except the arrays at the key paths in
    /// `appending` (`mount`, the `[dbus]` lists), which accumulate (base first).
    static func merge(_ base: TOMLNode, _ over: TOMLNode, appending: Set<String> = accumulating, path: String = "") -> TOMLNode {
        guard var result = base.entries, let overEntries = over.entries else { return over }
        var index: [String: Int] = [:]
        for (i, e) in result.enumerated() { index[e.key] = i }
        for entry in overEntries {
            let keyPath = path.isEmpty ? entry.key : path + "." + entry.key
            if let i = index[entry.key] {
                let old = result[i].node
                if case .table = old.value, case .table = entry.node.value {
                    result[i].node = merge(old, entry.node, appending: appending, path: keyPath)
                } else if appending.contains(keyPath),
                          case .array(let a) = old.value, case .array(let b) = entry.node.value {
                    var merged = entry.node
                    merged.value = .array(a + b)
                    result[i].node = merged
                } else {
                    result[i].node = entry.node
                }
            } else {
                index[entry.key] = result.count
                result.append(entry)
            }
        }
        var node = base
        node.value = .table(result)
        return node
    }
}

extension TOMLNode {
    /// The node at a path below this one (keys in tables, indices in arrays), or nil.
    func node(at path: [KeyPath.Component]) -> TOMLNode? {
        var node = self
        for c in path {
            switch (c, node.value) {
            case (.key(let k), .table): guard let n = node[k] else { return nil }; node = n
            case (.index(let i), .array(let a)): guard a.indices.contains(i) else { return nil }; node = a[i]
            default: return nil
            }
        }
        return node
    }
}
