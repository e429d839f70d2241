// The TOML 1.0.0 document grammar (https://toml.io/en/v1.0.0): key/value
// pairs, [table] and [[array of tables]] headers, arrays and inline tables —
// and the rules about defining a table once. The result is a TOMLNode tree
// whose every key and value carries the line it was written on, which profile
// validation names in its messages.
//
// Bounded on any input: the text is at most maxBytes, and keys, arrays and
// inline tables nest at most maxNesting deep (recursion follows only arrays and
// inline tables, and stops there with an error), so a hostile file gives an
// error rather than a crash, a deep stack or quadratic work.

struct TOMLParser {
    static let maxNesting = 64
    static let maxBytes = 8 << 20

    private var cursor: TOMLCursor
    private let file: String
    private let root: TableBuilder
    /// The table the latest header opened (the root before any header).
    private var current: TableBuilder

    private init(_ bytes: [UInt8], file: String) {
        cursor = TOMLCursor(bytes)
        self.file = file
        root = TableBuilder(path: KeyPath(), line: nil, origin: .root)
        current = root
    }

    static func parse(_ bytes: [UInt8], file: String) throws(TOMLSyntaxError) -> TOMLNode {
        if bytes.count > maxBytes {
            throw TOMLSyntaxError(line: 1, column: 1, message: "the file is larger than \(maxBytes >> 20) MiB",
                                  hint: "a profile is a few kilobytes; check that this is the right file")
        }
        var parser = TOMLParser(bytes, file: file)
        if let bad = TOMLCursor.firstInvalidUTF8(bytes) {
            parser.cursor.move(to: bad)
            throw parser.cursor.error("the file is not valid UTF-8 here", hint: "save it as UTF-8 text")
        }
        do {
            try parser.document()
        } catch {
            var e = error
            if let offset = e.offset { e.column = parser.cursor.column(of: offset) }
            throw e
        }
        return parser.root.node(file: file)
    }

    // MARK: statements

    private mutating func document() throws(TOMLSyntaxError) {
        while true {
            try cursor.skipBlank()
            guard let c = cursor.current else { return }
            if c == UInt8(ascii: "[") {
                try header()
                try cursor.expectLineEnd(after: "a table header")
            } else {
                try keyValue(into: current)
                try cursor.expectLineEnd(after: "a value")
            }
        }
    }

    /// `[a.b]` or `[[a.b]]`: opens a table, or appends one to an array of tables.
    private mutating func header() throws(TOMLSyntaxError) {
        cursor.advance()
        let isArray = cursor.at("[")
        if isArray { cursor.advance() }
        let keys = try key()
        guard cursor.at("]"), !isArray || cursor.peek(1) == UInt8(ascii: "]") else {
            throw cursor.error("expected \(isArray ? "]]" : "]") to close the table header, found \(TOMLCursor.describe(cursor.current))",
                               hint: isArray ? "write [[name]], e.g. [[mount]]" : "write [name] or [name.sub], e.g. [x11]")
        }
        cursor.advance(isArray ? 2 : 1)

        var table = root
        for k in keys.dropLast() {
            table = try table.descendForHeader(k)
        }
        let last = keys[keys.count - 1]
        if isArray {
            current = try table.appendArrayElement(last)
        } else {
            current = try table.defineByHeader(last)
        }
    }

    /// `a.b.c = value` in `table`; dotted keys create (and define) the tables between.
    private mutating func keyValue(into table: TableBuilder) throws(TOMLSyntaxError) {
        let line = cursor.line
        let keys = try key()
        guard cursor.at("=") else {
            throw cursor.error("expected '=' after the key, found \(TOMLCursor.describe(cursor.current))",
                               hint: "write key = value, e.g. mode = \"none\"; keys with spaces or dots need quotes")
        }
        cursor.advance()
        cursor.skipSpaces()
        var target = table
        for k in keys.dropLast() {
            target = try target.descendForDottedKey(k)
        }
        let path = target.path.appending(keys[keys.count - 1].name)
        let value = try value(path: path, line: line)
        try target.set(keys[keys.count - 1], value)
    }

    // MARK: keys

    /// A possibly dotted key (`a`, `"a b".c`, `'x'`), with the whitespace around it.
    private mutating func key() throws(TOMLSyntaxError) -> [TableBuilder.Key] {
        var keys: [TableBuilder.Key] = []
        while true {
            cursor.skipSpaces()
            let line = cursor.line, offset = cursor.pos
            guard let c = cursor.current else { throw cursor.error("expected a key name, found the end of the file") }
            let name: String
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                name = try cursor.parseString(allowMultiline: false)
            } else if KeyPath.isBareKeyByte(c) {
                let start = cursor.pos
                while let b = cursor.current, KeyPath.isBareKeyByte(b) { cursor.advance() }
                name = String(decoding: cursor.bytes[start..<cursor.pos], as: UTF8.self)
            } else {
                throw cursor.error("expected a key name, found \(TOMLCursor.describe(c))",
                                   hint: "bare keys are letters, digits, _ and -; quote any other key, e.g. \"my key\"")
            }
            keys.append(TableBuilder.Key(name: name, line: line, offset: offset))
            if keys.count > Self.maxNesting {
                throw cursor.error("tables, arrays or dotted keys nested more than \(Self.maxNesting) deep",
                                   hint: "profiles need at most two levels")
            }
            cursor.skipSpaces()
            guard cursor.at(".") else { return keys }
            cursor.advance()
        }
    }

    // MARK: values

    private mutating func value(path: KeyPath, line: Int) throws(TOMLSyntaxError) -> TOMLNode {
        if path.components.count > Self.maxNesting {
            throw cursor.error("tables, arrays or dotted keys nested more than \(Self.maxNesting) deep",
                               hint: "profiles need at most two levels")
        }
        var node = TOMLNode(value: .bool(false), file: file, line: line, path: path)
        switch cursor.current {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            node.value = .string(try cursor.parseString(allowMultiline: true))
        case UInt8(ascii: "["):
            node.value = .array(try array(path: path))
        case UInt8(ascii: "{"):
            node.value = try inlineTable(path: path, line: line).node(file: file).value
        default:
            node.value = try cursor.parseScalar()
        }
        return node
    }

    /// `[ v, v, ]`: newlines and comments allowed between elements, a trailing comma too.
    private mutating func array(path: KeyPath) throws(TOMLSyntaxError) -> [TOMLNode] {
        cursor.advance()
        var items: [TOMLNode] = []
        while true {
            try cursor.skipBlank()
            if cursor.at("]") { cursor.advance(); return items }
            items.append(try value(path: path.appending(items.count), line: cursor.line))
            try cursor.skipBlank()
            if cursor.at(",") { cursor.advance(); continue }
            if cursor.at("]") { cursor.advance(); return items }
            throw cursor.error("expected ',' or ']' after an array element, found \(TOMLCursor.describe(cursor.current))",
                               hint: "separate array elements with commas, e.g. [\"a\", \"b\"]")
        }
    }

    /// `{ k = v, … }` on one line, no trailing comma (TOML 1.0); complete once closed.
    private mutating func inlineTable(path: KeyPath, line: Int) throws(TOMLSyntaxError) -> TableBuilder {
        cursor.advance()
        let table = TableBuilder(path: path, line: line, origin: .inline)
        cursor.skipSpaces()
        if cursor.at("}") { cursor.advance(); return table }
        while true {
            try keyValue(into: table)
            cursor.skipSpaces()
            if cursor.at(",") {
                cursor.advance()
                cursor.skipSpaces()
                if cursor.at("\n") || cursor.at("\r") || cursor.at("#") {
                    throw cursor.error("an inline table must be on one line (TOML 1.0)",
                                       hint: "use a [table] section for longer tables")
                }
                if cursor.at("}") {
                    throw cursor.error("a comma before '}' in an inline table", hint: "TOML 1.0 allows no trailing comma in { … }")
                }
                continue
            }
            if cursor.at("}") { cursor.advance(); return table }
            let newline = cursor.at("\n") || cursor.at("\r") || cursor.at("#")
            throw cursor.error("expected ',' or '}' in an inline table, found \(TOMLCursor.describe(cursor.current))",
                               hint: newline ? "an inline table must be on one line; use a [table] header for longer ones"
                                             : "separate pairs with commas, e.g. { mode = \"none\", required = false }")
        }
    }
}
