// The byte-level reader under the TOML parser: position, line and column, and
// the rules that hold everywhere in a TOML 1.0 document — whitespace is space or
// tab, a newline is LF or CRLF (a lone CR is an error), comments may hold no
// control character but tab. The input is checked as UTF-8 once, up front, so
// everything after may slice bytes into Strings without repair.

/// A syntax error where it happened; TOMLTree turns it into a ProfileError.
struct TOMLSyntaxError: Error {
    var line: Int
    /// From 1; 0 until TOMLParser fills it in from `offset` (the table rules know
    /// where a key was written, not the text around it).
    var column: Int
    var offset: Int?
    var message: String
    var hint: String?

    init(line: Int, column: Int, message: String, hint: String? = nil) {
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    init(line: Int, offset: Int, message: String, hint: String? = nil) {
        self.init(line: line, column: 0, message: message, hint: hint)
        self.offset = offset
    }
}

struct TOMLCursor {
    let bytes: [UInt8]
    private(set) var pos = 0
    private(set) var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { pos >= bytes.count }
    var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }
    func peek(_ offset: Int) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }
    func at(_ c: Character) -> Bool { current == c.asciiValue }

    /// The column of the current position in characters (not bytes), from 1.
    /// Counted only for messages: counting on every token would be quadratic on long lines.
    var column: Int { column(of: pos) }

    func column(of offset: Int) -> Int {
        var start = min(offset, bytes.count)
        while start > 0, bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        var n = 1
        for i in start..<min(offset, bytes.count) where bytes[i] & 0xC0 != 0x80 { n += 1 }
        return n
    }

    mutating func advance(_ n: Int = 1) {
        for _ in 0..<n where pos < bytes.count {
            if bytes[pos] == UInt8(ascii: "\n") { line += 1 }
            pos += 1
        }
    }

    func error(_ message: String, hint: String? = nil) -> TOMLSyntaxError {
        TOMLSyntaxError(line: line, column: column, message: message, hint: hint)
    }

    /// How a byte reads in a message: 'x', or U+000D for what does not print.
    static func describe(_ c: UInt8?) -> String {
        guard let c else { return "the end of the file" }
        if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") { return "the end of the line" }
        if c < 0x20 || c == 0x7F { return controlName(c) }
        if c >= 0x80 { return "a non-ASCII character" }
        return "'\(Character(UnicodeScalar(c)))'"
    }

    static func controlName(_ c: UInt8) -> String {
        let hex = String(c, radix: 16, uppercase: true)
        return "the control character U+" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    /// TOML forbids U+0000–U+001F and U+007F in comments and strings, except tab.
    static func isForbiddenControl(_ c: UInt8) -> Bool {
        (c < 0x20 && c != UInt8(ascii: "\t")) || c == 0x7F
    }

    // MARK: whitespace, comments, newlines

    mutating func skipSpaces() {
        while let c = current, c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { advance() }
    }

    /// A comment up to (not including) its newline.
    mutating func skipComment() throws(TOMLSyntaxError) {
        guard at("#") else { return }
        advance()
        while let c = current, c != UInt8(ascii: "\n") {
            if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { return }
            if Self.isForbiddenControl(c) {
                throw error("\(Self.controlName(c)) in a comment", hint: "comments may hold any text but control characters")
            }
            advance()
        }
    }

    /// Consumes one newline (LF or CRLF); false when there is none here.
    mutating func newline() throws(TOMLSyntaxError) -> Bool {
        if at("\n") { advance(); return true }
        if at("\r") {
            guard peek(1) == UInt8(ascii: "\n") else {
                throw error("a carriage return not followed by a newline", hint: "save the file with LF or CRLF line endings")
            }
            advance(2)
            return true
        }
        return false
    }

    /// Spaces, comments and newlines: between statements and inside arrays.
    mutating func skipBlank() throws(TOMLSyntaxError) {
        while true {
            skipSpaces()
            try skipComment()
            if try !newline() { return }
        }
    }

    /// After a key/value pair or a table header: only a comment may follow on the line.
    mutating func expectLineEnd(after what: String) throws(TOMLSyntaxError) {
        skipSpaces()
        try skipComment()
        if atEnd { return }
        if try newline() { return }
        throw error("expected the end of the line after \(what), found \(Self.describe(current))",
                    hint: "put each key = value pair and each [table] header on its own line")
    }

    // MARK: UTF-8

    /// The offset of the first byte that is not well-formed UTF-8 (overlong forms,
    /// surrogates and values past U+10FFFF included), or nil.
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        func cont(_ j: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool { j < b.count && b[j] >= lo && b[j] <= hi }
        while i < b.count {
            let c = b[i]
            switch c {
            case 0x00...0x7F: i += 1
            case 0xC2...0xDF: guard cont(i + 1) else { return i }; i += 2
            case 0xE0: guard cont(i + 1, 0xA0), cont(i + 2) else { return i }; i += 3
            case 0xE1...0xEC, 0xEE...0xEF: guard cont(i + 1), cont(i + 2) else { return i }; i += 3
            case 0xED: guard cont(i + 1, 0x80, 0x9F), cont(i + 2) else { return i }; i += 3
            case 0xF0: guard cont(i + 1, 0x90), cont(i + 2), cont(i + 3) else { return i }; i += 4
            case 0xF1...0xF3: guard cont(i + 1), cont(i + 2), cont(i + 3) else { return i }; i += 4
            case 0xF4: guard cont(i + 1, 0x80, 0x8F), cont(i + 2), cont(i + 3) else { return i }; i += 4
            default: return i
            }
        }
        return nil
    }

    /// Moves to `offset` (forward only), keeping the line count: for error positions.
    mutating func move(to offset: Int) {
        while pos < offset { advance() }
    }
}
