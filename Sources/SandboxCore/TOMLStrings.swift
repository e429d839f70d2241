// TOML's four strings: "basic" (escapes), 'literal' (none), and their
// multi-line forms """…""" and '''…'''. A newline right after the opening
// delimiter is dropped; in multi-line basic strings a backslash at the end of a
// line removes the newline and the whitespace that follows; up to two quotes may
// stand right before the closing delimiter. No control character but tab (and
// newlines in the multi-line forms) may appear unescaped.

extension TOMLCursor {
    /// A string value or quoted key at the cursor (which is on a quote).
    mutating func parseString(allowMultiline: Bool) throws(TOMLSyntaxError) -> String {
        let quote = current!
        let triple = peek(1) == quote && peek(2) == quote
        if triple && allowMultiline {
            return try quote == UInt8(ascii: "\"") ? multilineBasic() : multilineLiteral()
        }
        if triple {
            throw error("a key cannot be a multi-line string", hint: "quote keys with \"…\" or '…' on one line")
        }
        return try quote == UInt8(ascii: "\"") ? basic() : literal()
    }

    private mutating func basic() throws(TOMLSyntaxError) -> String {
        advance()
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw unterminated("\"") }
            switch c {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try escape(into: &out)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw unterminated("\"")
            default:
                try plain(c, into: &out)
            }
        }
    }

    private mutating func literal() throws(TOMLSyntaxError) -> String {
        advance()
        let start = pos
        while true {
            guard let c = current, c != UInt8(ascii: "\n"), c != UInt8(ascii: "\r") else { throw unterminated("'") }
            if c == UInt8(ascii: "'") {
                let text = String(decoding: bytes[start..<pos], as: UTF8.self)
                advance()
                return text
            }
            try checkPlain(c)
            advance()
        }
    }

    private mutating func multilineBasic() throws(TOMLSyntaxError) -> String {
        advance(3)
        _ = try newline()
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw unterminated("\"\"\"") }
            switch c {
            case UInt8(ascii: "\""):
                if try closing(UInt8(ascii: "\""), into: &out) { return String(decoding: out, as: UTF8.self) }
            case UInt8(ascii: "\\"):
                if try !lineEndingBackslash() { try escape(into: &out) }
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                _ = try newline()
                out.append(UInt8(ascii: "\n"))
            default:
                try plain(c, into: &out)
            }
        }
    }

    private mutating func multilineLiteral() throws(TOMLSyntaxError) -> String {
        advance(3)
        _ = try newline()
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw unterminated("'''") }
            switch c {
            case UInt8(ascii: "'"):
                if try closing(UInt8(ascii: "'"), into: &out) { return String(decoding: out, as: UTF8.self) }
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                _ = try newline()
                out.append(UInt8(ascii: "\n"))
            default:
                try plain(c, into: &out)
            }
        }
    }

    /// At a quote inside a multi-line string: one or two quotes are content;
    /// three to five close the string, the ones past three being content.
    private mutating func closing(_ quote: UInt8, into out: inout [UInt8]) throws(TOMLSyntaxError) -> Bool {
        var n = 0
        while peek(n) == quote { n += 1 }
        if n < 3 {
            out.append(contentsOf: repeatElement(quote, count: n))
            advance(n)
            return false
        }
        if n > 5 {
            throw error("too many quotes in a row at the end of a multi-line string",
                        hint: "escape quotes inside the string (\\\") or use the other quote style")
        }
        out.append(contentsOf: repeatElement(quote, count: n - 3))
        advance(n)
        return true
    }

    /// A backslash followed by optional whitespace and a newline: drops it all up
    /// to the next non-whitespace character. False (nothing consumed) otherwise.
    private mutating func lineEndingBackslash() throws(TOMLSyntaxError) -> Bool {
        var i = 1
        while let c = peek(i), c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { i += 1 }
        guard let c = peek(i), c == UInt8(ascii: "\n") || (c == UInt8(ascii: "\r") && peek(i + 1) == UInt8(ascii: "\n")) else {
            return false
        }
        advance(i)
        while true {
            skipSpaces()
            if try !newline() { return true }
        }
    }

    /// A character that needs no escape: anything but a forbidden control character.
    private mutating func plain(_ c: UInt8, into out: inout [UInt8]) throws(TOMLSyntaxError) {
        try checkPlain(c)
        out.append(c)
        advance()
    }

    private func checkPlain(_ c: UInt8) throws(TOMLSyntaxError) {
        if Self.isForbiddenControl(c) {
            throw error("\(Self.controlName(c)) in a string", hint: "write control characters as escapes, e.g. \\u0001")
        }
    }

    private static let simpleEscapes: [UInt8: UInt8] = [
        UInt8(ascii: "b"): 8, UInt8(ascii: "t"): 9, UInt8(ascii: "n"): 10, UInt8(ascii: "f"): 12,
        UInt8(ascii: "r"): 13, UInt8(ascii: "\""): 34, UInt8(ascii: "\\"): 92,
    ]

    /// \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX; the cursor is on the backslash.
    private mutating func escape(into out: inout [UInt8]) throws(TOMLSyntaxError) {
        guard let e = peek(1) else { throw unterminated("\"") }
        if let byte = Self.simpleEscapes[e] {
            out.append(byte)
            advance(2)
            return
        }
        guard e == UInt8(ascii: "u") || e == UInt8(ascii: "U") else {
            throw error("\\\(Self.describe(e).trimmingQuotes) is not a TOML escape",
                        hint: "TOML 1.0 knows \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX and \\UXXXXXXXX; write a backslash as \\\\")
        }
        let digits = e == UInt8(ascii: "u") ? 4 : 8
        var value: UInt32 = 0
        for i in 0..<digits {
            guard let h = peek(2 + i), let d = Self.hexValue(h) else {
                throw error("\\\(Character(UnicodeScalar(e))) needs \(digits) hexadecimal digits", hint: "e.g. \\u00E9 or \\U0001F600")
            }
            value = value << 4 | UInt32(d)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("\\\(Character(UnicodeScalar(e))) escape of \(String(value, radix: 16, uppercase: true)), which is not a Unicode scalar value",
                        hint: "surrogates (D800–DFFF) and values above 10FFFF are not characters")
        }
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
        advance(2 + digits)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - 55
        default: nil
        }
    }

    private func unterminated(_ delimiter: String) -> TOMLSyntaxError {
        error("a string without its closing \(delimiter)",
              hint: delimiter.count == 1 ? "close the string on the same line, or use \(delimiter)\(delimiter)\(delimiter) for text over several lines" : "add the closing \(delimiter)")
    }
}

private extension String {
    /// 'x' → x, for "\x is not an escape".
    var trimmingQuotes: String {
        hasPrefix("'") && hasSuffix("'") && count == 3 ? String(dropFirst().dropLast()) : self
    }
}
