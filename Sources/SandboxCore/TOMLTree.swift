// A TOML document as plain Swift values, each remembering where it was written
// (file, line, key path), so that merging includes keeps every value's origin and
// validation can point at the exact line in the exact file. TOMLKit does the
// parsing; KeyLocator supplies the lines.
import TOMLKit

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
    /// Bytes as ProfileFiles.readText turns them into text (invalid UTF-8 repaired).
    static func parse(bytes: [UInt8], file: String) -> Result<TOMLNode, ProfileError> {
        parse(source: String(decoding: bytes, as: UTF8.self), file: file)
    }

    /// Parses `source` (the text of `file`) into a table node, or one syntax error with its line.
    static func parse(source: String, file: String) -> Result<TOMLNode, ProfileError> {
        let locator = KeyLocator(source: source)
        if let bad = locator.badHeader {
            return .failure(ProfileError(.syntax, at: SourceLocation(file: file, line: bad.line),
                                         "TOML syntax error at column \(bad.column): a table header must start with a key name",
                                         hint: "write [name] or [[name]], e.g. [x11] or [[mount]]"))
        }
        if let bad = locator.badValue {
            if locator.tooDeep {
                return .failure(ProfileError(.syntax, at: SourceLocation(file: file, line: bad.line),
                                             "tables, arrays or dotted keys nested more than \(KeyLocator.maxNesting) deep at column \(bad.column)",
                                             hint: "profiles need at most two levels"))
            }
            if let token = locator.badToken {
                return .failure(ProfileError(.syntax, at: SourceLocation(file: file, line: bad.line),
                                             "TOML syntax error at column \(bad.column): \(token) is not a valid value",
                                             hint: "strings need double quotes, e.g. \"\(token)\"; numbers, true and false do not"))
            }
            return .failure(ProfileError(.syntax, at: SourceLocation(file: file, line: bad.line),
                                         "TOML syntax error at column \(bad.column): expected an array element (a value) or ']'",
                                         hint: "array elements are values such as \"text\", 1 or true, separated by commas"))
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: source)
        } catch let error as TOMLParseError {
            let begin = error.source.begin
            return .failure(ProfileError(.syntax, at: SourceLocation(file: file, line: begin.line),
                                         "TOML syntax error at column \(begin.column): \(error.description)",
                                         hint: "see https://toml.io for the syntax; strings need double quotes"))
        } catch {
            return .failure(ProfileError(.syntax, at: SourceLocation(file: file), "TOML syntax error: \(error)"))
        }
        return .success(convert(table, path: KeyPath(), file: file, locator: locator))
    }

    private static func convert(_ value: TOMLValueConvertible, path: KeyPath, file: String, locator: KeyLocator) -> TOMLNode {
        let line = path.components.isEmpty ? nil : locator.line(for: path)
        var node = TOMLNode(value: .bool(false), file: file, line: line, path: path)
        switch value.type {
        case .string: node.value = .string(value.string ?? "")
        case .int: node.value = .integer(value.int ?? 0)
        case .double: node.value = .float(value.double ?? 0)
        case .bool: node.value = .bool(value.bool ?? false)
        case .date: node.value = .datetime(value.date.map { "\($0.year)-\($0.month)-\($0.day)" } ?? "date")
        case .time: node.value = .datetime(value.time.map { "\($0.hour):\($0.minute):\($0.second)" } ?? "time")
        case .dateTime: node.value = .datetime("date-time")
        case .array:
            var items: [TOMLNode] = []
            if let array = value.array {
                for (i, element) in array.enumerated() {
                    items.append(convert(element, path: path.appending(i), file: file, locator: locator))
                }
            }
            node.value = .array(items)
        case .table:
            var entries: [TOMLEntry] = []
            if let table = value.table {
                for (key, element) in table {
                    entries.append(TOMLEntry(key: key, node: convert(element, path: path.appending(key), file: file, locator: locator)))
                }
            }
            // toml++ keeps keys sorted; present them in the order the file wrote them.
            entries.sort { ($0.node.line ?? Int.max, $0.key) < ($1.node.line ?? Int.max, $1.key) }
            node.value = .table(entries)
        }
        return node
    }

    /// Merges `over` onto `base`: tables merge key by key (recursively), every
    /// other value is replaced, except the keys in `appending` whose arrays
    /// accumulate (base first) — `mount` at the top level.
    static func merge(_ base: TOMLNode, _ over: TOMLNode, appending: Set<String> = ["mount"], depth: Int = 0) -> TOMLNode {
        guard var result = base.entries, let overEntries = over.entries else { return over }
        var index: [String: Int] = [:]
        for (i, e) in result.enumerated() { index[e.key] = i }
        for entry in overEntries {
            if let i = index[entry.key] {
                let old = result[i].node
                if case .table = old.value, case .table = entry.node.value {
                    result[i].node = merge(old, entry.node, appending: [], depth: depth + 1)
                } else if depth == 0, appending.contains(entry.key),
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
