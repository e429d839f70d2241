// Strict lexical check of TOML 1.0 scalar values (numbers, booleans, dates and
// times), run by KeyLocator before the text reaches toml++. toml++ 3 (inside
// TOMLKit 0.6.0) asserts — aborting the process — on some malformed scalars
// (e.g. `v = 1979-05-27T:`); a profile with a typo must give an error, not a
// crash, so anything that is not lexically a TOML scalar is reported by us.

enum TOMLScalar {
    static func isValid(_ token: ArraySlice<UInt8>) -> Bool {
        let t = Array(token)
        if t.isEmpty { return false }
        if t == Array("true".utf8) || t == Array("false".utf8) { return true }
        var c = Cursor(t)
        if c.matchNumber(), c.atEnd { return true }
        c = Cursor(t)
        if c.matchDateTime(), c.atEnd { return true }
        return false
    }

    private struct Cursor {
        let bytes: [UInt8]
        var i = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { i >= bytes.count }
        var current: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func eat(_ c: Character) -> Bool {
            if current == c.asciiValue { i += 1; return true }
            return false
        }

        mutating func eatWord(_ w: String) -> Bool {
            let u = Array(w.utf8)
            guard i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u else { return false }
            i += u.count
            return true
        }

        static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102) }

        /// digit (_? digit)* for a digit class.
        mutating func digits(_ isDigit: (UInt8) -> Bool) -> Bool {
            guard let c = current, isDigit(c) else { return false }
            i += 1
            while let c = current {
                if isDigit(c) { i += 1; continue }
                if c == UInt8(ascii: "_"), i + 1 < bytes.count, isDigit(bytes[i + 1]) { i += 2; continue }
                break
            }
            return true
        }

        mutating func exactly(_ n: Int) -> Bool {
            for _ in 0..<n {
                guard let c = current, Self.isDigit(c) else { return false }
                i += 1
            }
            return true
        }

        mutating func matchNumber() -> Bool {
            if eatWord("0x") { return digits(Self.isHex) }
            if eatWord("0o") { return digits { $0 >= 48 && $0 <= 55 } }
            if eatWord("0b") { return digits { $0 == 48 || $0 == 49 } }
            _ = eat("+") || eat("-")
            if eatWord("inf") || eatWord("nan") { return true }
            // Integer part: 0 or a non-zero-led digit run (no leading zeros).
            if current == UInt8(ascii: "0") {
                i += 1
            } else if !digits(Self.isDigit) {
                return false
            }
            if eat(".") { guard digits(Self.isDigit) else { return false } }
            if eat("e") || eat("E") {
                _ = eat("+") || eat("-")
                guard digits(Self.isDigit) else { return false }
            }
            return true
        }

        mutating func matchTime() -> Bool {
            guard exactly(2), eat(":"), exactly(2), eat(":"), exactly(2) else { return false }
            if eat(".") { guard digits({ Self.isDigit($0) }) else { return false } }
            return true
        }

        mutating func matchDateTime() -> Bool {
            let start = i
            // Local time alone.
            if i + 2 < bytes.count, bytes[i + 2] == UInt8(ascii: ":") { return matchTime() }
            i = start
            guard exactly(4), eat("-"), exactly(2), eat("-"), exactly(2) else { return false }
            if atEnd { return true }
            guard eat("T") || eat("t") || eat(" ") else { return false }
            guard matchTime() else { return false }
            if eat("Z") || eat("z") { return true }
            if eat("+") || eat("-") { return exactly(2) && eat(":") && exactly(2) }
            return true
        }
    }
}
