// Finds the line of every key in a TOML text. TOMLKit (toml++) parses the file
// but reports positions only for syntax errors; validation messages must name
// the line too, so this scans the same text once more and records, for each key
// path, the line where it is defined: `key = …` lines (dotted keys included),
// `[table]` and `[[array]]` headers (with the array-of-tables index), inline
// tables and array elements. It only locates; it never decides what is valid,
// and it runs only on text TOMLKit has already accepted.

/// A path to a value: `mount[1].target`, `env.LANG`, `idmap.uid[0]`.
struct KeyPath: Hashable, Sendable, CustomStringConvertible {
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }
    var components: [Component] = []

    init(_ components: [Component] = []) { self.components = components }

    func appending(_ key: String) -> KeyPath { KeyPath(components + [.key(key)]) }
    func appending(_ index: Int) -> KeyPath { KeyPath(components + [.index(index)]) }
    var parent: KeyPath? { components.isEmpty ? nil : KeyPath(Array(components.dropLast())) }

    /// Dotted form; keys that are not bare TOML keys are quoted.
    var description: String {
        var s = ""
        for c in components {
            switch c {
            case .key(let k):
                if !s.isEmpty { s += "." }
                s += KeyPath.isBare(k) ? k : TOMLEmitter.quoted(k)
            case .index(let i):
                s += "[\(i)]"
            }
        }
        return s
    }

    static func isBare(_ k: String) -> Bool {
        !k.isEmpty && k.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
    }
}

struct KeyLocator {
    private(set) var lines: [KeyPath: Int] = [:]
    /// The first table header whose key does not start right (`[}`, `[.a]`, `[` at
    /// the end of a line): toml++ 3 (inside TOMLKit 0.6.0) asserts on those and
    /// aborts the process instead of reporting an error, so TOMLTree.parse
    /// reports them itself before handing the text over.
    private(set) var badHeader: (line: Int, column: Int)?
    /// The first array element that cannot start a value (`[}`) or scalar that is
    /// not a TOML number, boolean or date (`1979-05-27T:`): same toml++ problem.
    private(set) var badValue: (line: Int, column: Int)?
    /// The text of badValue when it is a malformed scalar (nil for a bad array element start).
    private(set) var badToken: String?
    /// badValue is where arrays, inline tables or dotted keys nest deeper than maxNesting.
    private(set) var tooDeep = false
    static let maxNesting = 64

    init(source: String) {
        var scanner = Scanner(bytes: Array(source.utf8))
        scanner.scanDocument()
        lines = scanner.lines
        badHeader = scanner.badHeader
        badValue = scanner.badValue
        badToken = scanner.badToken
        tooDeep = scanner.tooDeep
    }

    /// The line of `path`, or of its nearest located ancestor (a table header).
    func line(for path: KeyPath) -> Int? {
        var p: KeyPath? = path
        while let q = p {
            if let l = lines[q] { return l }
            p = q.parent
        }
        return nil
    }

    private struct Scanner {
        let bytes: [UInt8]
        var pos = 0
        var line = 1
        var lines: [KeyPath: Int] = [:]
        /// Next index for each array-of-tables path seen so far.
        var arrayCounts: [KeyPath: Int] = [:]
        var badHeader: (line: Int, column: Int)?
        var badValue: (line: Int, column: Int)?
        var badToken: String?
        var tooDeep = false
        var lineStart = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { pos >= bytes.count }
        var current: UInt8 { bytes[pos] }
        func peek(_ off: Int) -> UInt8? { pos + off < bytes.count ? bytes[pos + off] : nil }

        mutating func advance() {
            if bytes[pos] == UInt8(ascii: "\n") { line += 1; lineStart = pos + 1 }
            pos += 1
        }

        mutating func record(_ path: KeyPath, _ l: Int) {
            if lines[path] == nil { lines[path] = l }
        }

        mutating func skipSpaces() {
            while !atEnd, current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { advance() }
        }

        mutating func skipComment() {
            if !atEnd, current == UInt8(ascii: "#") {
                while !atEnd, current != UInt8(ascii: "\n") { advance() }
            }
        }

        /// Spaces, newlines and comments (inside arrays and between statements).
        mutating func skipBlank() {
            while !atEnd {
                switch current {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): advance()
                case UInt8(ascii: "#"): skipComment()
                default: return
                }
            }
        }

        mutating func skipToNextLine() {
            while !atEnd, current != UInt8(ascii: "\n") { advance() }
        }

        mutating func scanDocument() {
            var table = KeyPath()
            while true {
                skipBlank()
                if atEnd { return }
                let start = pos
                if current == UInt8(ascii: "[") {
                    let isArray = peek(1) == UInt8(ascii: "[")
                    advance()
                    if isArray { advance() }
                    skipSpaces()
                    if badHeader == nil, !atEnd, !(KeyLocator.isBareKeyByte(current) || current == UInt8(ascii: "\"")
                        || current == UInt8(ascii: "'") || current == UInt8(ascii: "]")) {
                        badHeader = (line, pos - lineStart + 1)
                    }
                    let keys = scanKey()
                    table = resolve(keys, isArray: isArray)
                    skipToNextLine()
                } else {
                    let keys = scanKey()
                    skipSpaces()
                    if !atEnd, current == UInt8(ascii: "=") {
                        advance()
                        skipSpaces()
                        var path = table
                        let keyLine = line
                        for k in keys {
                            path = path.appending(k)
                            record(path, keyLine)
                        }
                        scanValue(path)
                    }
                    skipSpaces()
                    skipComment()
                }
                if pos == start { advance() }   // never stall on text we do not understand
            }
        }

        /// A header's dotted keys, with every array-of-tables prefix pointing at its last element.
        mutating func resolve(_ keys: [String], isArray: Bool) -> KeyPath {
            var path = KeyPath()
            for (i, k) in keys.enumerated() {
                path = path.appending(k)
                let last = i == keys.count - 1
                if last && isArray {
                    record(path, line)
                    let n = arrayCounts[path, default: 0]
                    arrayCounts[path] = n + 1
                    path = path.appending(n)
                } else if let n = arrayCounts[path] {
                    path = path.appending(n - 1)
                }
            }
            record(path, line)
            return path
        }

        /// A possibly dotted key: bare, "basic" or 'literal' parts.
        mutating func scanKey() -> [String] {
            var keys: [String] = []
            while !atEnd {
                skipSpaces()
                if atEnd { break }
                if current == UInt8(ascii: "\"") || current == UInt8(ascii: "'") {
                    keys.append(scanQuotedKey())
                } else {
                    let s = pos
                    while !atEnd, KeyLocator.isBareKeyByte(current) { advance() }
                    if pos == s { break }
                    keys.append(String(decoding: bytes[s..<pos], as: UTF8.self))
                }
                skipSpaces()
                if keys.count > KeyLocator.maxNesting {
                    // Dotted keys this long are never a profile; stop before the work turns quadratic.
                    if badValue == nil { badValue = (line, pos - lineStart + 1); badToken = nil; tooDeep = true }
                    pos = bytes.count
                    return []
                }
                if !atEnd, current == UInt8(ascii: ".") { advance(); continue }
                break
            }
            return keys
        }

        mutating func scanQuotedKey() -> String {
            let quote = current
            advance()
            var out: [UInt8] = []
            while !atEnd, current != quote, current != UInt8(ascii: "\n") {
                if quote == UInt8(ascii: "\""), current == UInt8(ascii: "\\"), let next = peek(1) {
                    advance()
                    switch next {
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "t"): out.append(9)
                    default: out.append(next)   // \" and \\ ; \u escapes in keys are too rare to decode here
                    }
                    advance()
                    continue
                }
                out.append(current)
                advance()
            }
            if !atEnd, current == quote { advance() }
            return String(decoding: out, as: UTF8.self)
        }

        mutating func scanValue(_ path: KeyPath, depth: Int = 0) {
            guard !atEnd else { return }
            // Nesting this deep is never a profile; stop before the stack runs out.
            if depth > KeyLocator.maxNesting {
                if badValue == nil { badValue = (line, pos - lineStart + 1); badToken = nil; tooDeep = true }
                pos = bytes.count
                return
            }
            switch current {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                skipString()
            case UInt8(ascii: "["):
                advance()
                var index = 0
                while true {
                    skipBlank()
                    if atEnd { return }
                    if current == UInt8(ascii: "]") { advance(); return }
                    // toml++ asserts (aborts) when an array element starts with '}' or a
                    // Unicode line separator; no TOML value starts with anything else here.
                    if badValue == nil, current != UInt8(ascii: ","), !KeyLocator.canStartValue(current) {
                        badValue = (line, pos - lineStart + 1)
                    }
                    let elementPath = path.appending(index)
                    record(elementPath, line)
                    let s = pos
                    scanValue(elementPath, depth: depth + 1)
                    skipBlank()
                    if atEnd { return }
                    if current == UInt8(ascii: ",") { advance(); index += 1; continue }
                    if current == UInt8(ascii: "]") { advance(); return }
                    if pos == s { advance() }
                }
            case UInt8(ascii: "{"):
                advance()
                while true {
                    skipSpaces()
                    if atEnd { return }
                    if current == UInt8(ascii: "}") { advance(); return }
                    let keyLine = line
                    let keys = scanKey()
                    skipSpaces()
                    guard !atEnd, current == UInt8(ascii: "=") else { skipToNextLine(); return }
                    advance()
                    skipSpaces()
                    var p = path
                    for k in keys {
                        p = p.appending(k)
                        record(p, keyLine)
                    }
                    scanValue(p, depth: depth + 1)
                    skipSpaces()
                    if atEnd { return }
                    if current == UInt8(ascii: ",") { advance(); continue }
                    if current == UInt8(ascii: "}") { advance(); return }
                    skipToNextLine()
                    return
                }
            default:
                // Numbers, booleans, dates: up to the next delimiter.
                let start = pos, startLine = line, column = pos - lineStart + 1
                while !atEnd {
                    let c = current
                    if c == UInt8(ascii: ",") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}")
                        || c == UInt8(ascii: "\n") || c == UInt8(ascii: "#") { break }
                    advance()
                }
                var end = pos
                while end > start, [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains(bytes[end - 1]) { end -= 1 }
                if badValue == nil, end > start, !TOMLScalar.isValid(bytes[start..<end]) {
                    badValue = (startLine, column)
                    badToken = String(decoding: bytes[start..<end], as: UTF8.self)
                }
            }
        }

        mutating func skipString() {
            let quote = current
            let triple = peek(1) == quote && peek(2) == quote
            if triple {
                advance(); advance(); advance()
                while !atEnd {
                    if current == UInt8(ascii: "\\"), quote == UInt8(ascii: "\"") { advance(); if !atEnd { advance() }; continue }
                    if current == quote, peek(1) == quote, peek(2) == quote {
                        advance(); advance(); advance()
                        // A closing run may hold up to two more quotes that belong to the content.
                        while !atEnd, current == quote { advance() }
                        return
                    }
                    advance()
                }
            } else {
                advance()
                while !atEnd, current != UInt8(ascii: "\n") {
                    if current == UInt8(ascii: "\\"), quote == UInt8(ascii: "\"") { advance(); if !atEnd { advance() }; continue }
                    if current == quote { advance(); return }
                    advance()
                }
            }
        }
    }

    /// Bytes a TOML value can start with: quotes, brackets, digits, signs, and the
    /// first letters of true, false, inf and nan.
    static func canStartValue(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "["), UInt8(ascii: "{"),
             UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "t"), UInt8(ascii: "f"),
             UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return false
        }
    }

    static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45
    }
}
