// TOML's unquoted values: booleans, integers (decimal with `_` between digits,
// 0x/0o/0b, 64-bit: larger is an error, not a wrap), floats (fraction and/or
// exponent, inf and nan with a sign), and the four date/time forms, which are
// checked (month, day of that month, hour, minute, second, offset) and kept as
// written: no profile key takes a date.

extension TOMLCursor {
    /// The unquoted value at the cursor.
    mutating func parseScalar() throws(TOMLSyntaxError) -> TOMLNode.Value {
        let start = pos
        let startLine = line
        scanToken()
        // A date, a space and a time are one value (`1979-05-27 07:32:00`).
        if pos - start == 10, Self.isDate(bytes[start..<pos]), at(" "),
           let a = peek(1), let b = peek(2), Self.isDigit(a), Self.isDigit(b), peek(3) == UInt8(ascii: ":") {
            advance()
            scanToken()
        }
        let token = Array(bytes[start..<pos])
        let text = String(decoding: token, as: UTF8.self)
        if let value = Self.scalar(token) { return value }
        let reason = Self.whyInvalid(token)
        let word = token.first.map { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) } ?? false
        throw TOMLSyntaxError(
            line: startLine, column: column(of: start),
            message: text.isEmpty ? "expected a value, found \(Self.describe(current))" : "\(text) is not a valid value" + (reason.map { ": " + $0 } ?? ""),
            hint: word || text.isEmpty ? "strings need double quotes, e.g. \"\(text.isEmpty ? "text" : text)\"; numbers, true and false do not"
                : "numbers look like 42, -1_000, 0x1F, 3.14 or 6e-3; dates like 1979-05-27 or 1979-05-27T07:32:00Z")
    }

    /// The bytes an unquoted value can hold.
    private mutating func scanToken() {
        while let c = current, Self.isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
            || c == UInt8(ascii: ".") || c == UInt8(ascii: ":") {
            advance()
        }
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    static func scalar(_ t: [UInt8]) -> TOMLNode.Value? {
        let text = String(decoding: t, as: UTF8.self)
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan": return .float(.nan)
        case "-nan": return .float(-.nan)
        default: break
        }
        if isDateTimeShaped(t) { return validDateTime(t) ? .datetime(text) : nil }
        if t.count > 2, t[0] == UInt8(ascii: "0"), let radix = [UInt8(ascii: "x"): 16, UInt8(ascii: "o"): 8, UInt8(ascii: "b"): 2][t[1]] {
            return radixInteger(t[2...], radix: radix).map { .integer($0) }
        }
        if t.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return float(t).map { .float($0) }
        }
        return decimalInteger(t).map { .integer($0) }
    }

    /// A short reason for the message, when there is a common one.
    static func whyInvalid(_ t: [UInt8]) -> String? {
        if isDateTimeShaped(t) { return "not a date/time TOML knows (YYYY-MM-DD, HH:MM:SS, both with T or a space, then Z or ±HH:MM)" }
        var body = t[...]
        if let s = body.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { body = body.dropFirst() }
        if body.count > 1, body.first == UInt8(ascii: "0"), let second = body.dropFirst().first, isDigit(second) || second == UInt8(ascii: "_") {
            return "leading zeros are not allowed"
        }
        if t.contains(UInt8(ascii: "_")) { return "an underscore must stand between two digits" }
        if float(t) == nil, t.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
           let d = Double(String(decoding: t, as: UTF8.self)), d.isInfinite {
            return "too large for a 64-bit float"
        }
        return nil
    }

    // MARK: numbers

    /// Digits with single underscores between them; nil if the shape is wrong.
    private static func digitRun(_ t: ArraySlice<UInt8>, _ isDigit: (UInt8) -> Bool) -> [UInt8]? {
        guard let first = t.first, let last = t.last, isDigit(first), isDigit(last) else { return nil }
        var out: [UInt8] = []
        var previousUnderscore = false
        for c in t {
            if c == UInt8(ascii: "_") {
                if previousUnderscore { return nil }
                previousUnderscore = true
            } else if isDigit(c) {
                out.append(c)
                previousUnderscore = false
            } else {
                return nil
            }
        }
        return out
    }

    private static func decimalDigits(_ t: ArraySlice<UInt8>) -> [UInt8]? { digitRun(t, isDigit) }

    /// [+-] then 0 or a digit run without a leading zero.
    private static func decimalInteger(_ t: [UInt8]) -> Int? {
        var body = t[...]
        var negative = false
        if let s = body.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
            negative = s == UInt8(ascii: "-")
            body = body.dropFirst()
        }
        guard let digits = decimalDigits(body), !(digits.count > 1 && digits[0] == UInt8(ascii: "0")) else { return nil }
        // Accumulate toward the sign so Int.min fits; overflow is an error.
        var value = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (v, o2) = negative ? m.subtractingReportingOverflow(Int(d - 48)) : m.addingReportingOverflow(Int(d - 48))
            if o1 || o2 { return nil }
            value = v
        }
        return value
    }

    private static func radixInteger(_ t: ArraySlice<UInt8>, radix: Int) -> Int? {
        guard let digits = digitRun(t, { hexValue($0).map { Int($0) < radix } ?? false }) else { return nil }
        var value = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (v, o2) = m.addingReportingOverflow(Int(hexValue(d)!))
            if o1 || o2 { return nil }
            value = v
        }
        return value
    }

    /// [+-] integer-part ( . digits )? ( [eE] [+-] digits )?, at least one of the two.
    private static func float(_ t: [UInt8]) -> Double? {
        var body = t[...]
        var text = ""
        if let s = body.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
            text.append(Character(UnicodeScalar(s)))
            body = body.dropFirst()
        }
        let expAt = body.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let mantissa = body[..<(expAt ?? body.endIndex)]
        let dotAt = mantissa.firstIndex(of: UInt8(ascii: "."))
        guard let intDigits = decimalDigits(mantissa[..<(dotAt ?? mantissa.endIndex)]),
              !(intDigits.count > 1 && intDigits[0] == UInt8(ascii: "0")) else { return nil }
        text += String(decoding: intDigits, as: UTF8.self)
        if let dotAt {
            guard let frac = decimalDigits(mantissa[(dotAt + 1)...]) else { return nil }
            text += "." + String(decoding: frac, as: UTF8.self)
        }
        if let expAt {
            var exp = body[(expAt + 1)...]
            text += "e"
            if let s = exp.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
                text.append(Character(UnicodeScalar(s)))
                exp = exp.dropFirst()
            }
            guard let expDigits = decimalDigits(exp) else { return nil }
            text += String(decoding: expDigits, as: UTF8.self)
        }
        guard dotAt != nil || expAt != nil, let value = Double(text), value.isFinite else {
            return nil   // 1e400 is no binary64 value: an error, not a silent inf
        }
        return value
    }

    // MARK: dates and times

    static func isDate(_ t: ArraySlice<UInt8>) -> Bool {
        let a = Array(t)
        return a.count == 10 && a[4] == UInt8(ascii: "-") && a[7] == UInt8(ascii: "-")
            && [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { isDigit(a[$0]) }
    }

    /// Looks like a date (NNNN-) or a time (NN:): then it must be a valid one.
    private static func isDateTimeShaped(_ t: [UInt8]) -> Bool {
        (t.count >= 5 && t[0..<4].allSatisfy(isDigit) && t[4] == UInt8(ascii: "-"))
            || (t.count >= 3 && isDigit(t[0]) && isDigit(t[1]) && t[2] == UInt8(ascii: ":"))
    }

    private static func validDateTime(_ t: [UInt8]) -> Bool {
        var i = 0
        func number(_ n: Int) -> Int? {
            guard i + n <= t.count, t[i..<(i + n)].allSatisfy(isDigit) else { return nil }
            defer { i += n }
            return t[i..<(i + n)].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        func eat(_ c: Character) -> Bool {
            guard i < t.count, t[i] == c.asciiValue else { return false }
            i += 1
            return true
        }
        func time() -> Bool {
            guard let h = number(2), h <= 23, eat(":"), let m = number(2), m <= 59, eat(":"), let s = number(2), s <= 60 else { return false }
            if eat(".") {
                let start = i
                while i < t.count, isDigit(t[i]) { i += 1 }
                if i == start { return false }
            }
            return true
        }
        if t.count >= 3, t[2] == UInt8(ascii: ":") { return time() && i == t.count }
        guard let y = number(4), eat("-"), let mo = number(2), (1...12).contains(mo), eat("-"), let d = number(2) else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
        guard (1...days).contains(d) else { return false }
        if i == t.count { return true }
        guard eat("T") || eat("t") || eat(" "), time() else { return false }
        if i == t.count { return true }
        if eat("Z") || eat("z") { return i == t.count }
        guard eat("+") || eat("-"), let oh = number(2), oh <= 23, eat(":"), let om = number(2), om <= 59 else { return false }
        return i == t.count
    }
}
