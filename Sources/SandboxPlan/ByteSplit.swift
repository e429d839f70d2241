// Splitting text on an ASCII separator by its UTF-8 bytes. A start reads
// /etc/passwd, /etc/group, /etc/subuid and /etc/subgid and a join the state
// file; String.split(separator:) walks them Character by Character (grapheme
// breaking): callgrind counted 4.6 M of a cold start's 24.5 M launcher
// instructions in the mount planner, most of it splitting those files (1.2 M now).
// Inlinable, so that callers in other modules get it specialized for String
// and Substring instead of going through the generic witness tables.

extension StringProtocol where SubSequence == Substring {
    /// The pieces between occurrences of `separator` (an ASCII character), like
    /// `split(separator:omittingEmptySubsequences:)`. Unlike Character-wise
    /// splitting, "\r\n" is split at its "\n".
    @inlinable
    public func byteSplit(_ separator: Unicode.Scalar, omittingEmptySubsequences: Bool = true) -> [Substring] {
        precondition(separator.isASCII, "byteSplit needs an ASCII separator")
        let byte = UInt8(separator.value)
        var pieces: [Substring] = []
        let bytes = utf8
        var start = bytes.startIndex
        var i = start
        // An ASCII byte is always a scalar boundary, so these indices are valid in `self`.
        while i != bytes.endIndex {
            if bytes[i] == byte {
                if !omittingEmptySubsequences || start != i { pieces.append(self[start..<i]) }
                start = bytes.index(after: i)
            }
            i = bytes.index(after: i)
        }
        if !omittingEmptySubsequences || start != bytes.endIndex { pieces.append(self[start..<bytes.endIndex]) }
        return pieces
    }

    /// The records of a colon-separated database (passwd, group, subuid): each
    /// non-empty line's fields, empty fields kept.
    @inlinable
    public func colonRecords() -> [[Substring]] {
        byteSplit("\n").map { $0.byteSplit(":", omittingEmptySubsequences: false) }
    }
}

/// A colon-separated database (passwd, group) read record by record over its
/// UTF-8 bytes, with no String, Substring or array per field: a start turns the
/// host's passwd and group into the container's, and the Substring pieces of
/// `colonRecords` cost 1.4 M of a cold run's 6.1 M launcher instructions for a
/// 64-line passwd and a 94-line group file.
public struct ColonDatabase: Sendable {
    public let bytes: [UInt8]

    public init(_ text: String) { bytes = Array(text.utf8) }

    /// Calls `body` with each non-empty line, in order.
    public func forEachRecord(_ body: (ColonRecord) throws -> Void) rethrows {
        var start = 0
        var ends: [Int] = []
        ends.reserveCapacity(8)
        while start < bytes.count {
            var end = start
            ends.removeAll(keepingCapacity: true)
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") {
                if bytes[end] == UInt8(ascii: ":") { ends.append(end) }
                end += 1
            }
            if end > start {
                ends.append(end)
                try body(ColonRecord(bytes: bytes, start: start, fieldEnds: ends))
            }
            start = end + 1
        }
    }
}

/// One line of a ColonDatabase: its fields are the bytes between colons.
public struct ColonRecord {
    let bytes: [UInt8]
    let start: Int
    let fieldEnds: [Int]

    public var count: Int { fieldEnds.count }

    /// The whole line, without its newline.
    public var line: ArraySlice<UInt8> { bytes[start..<fieldEnds[fieldEnds.count - 1]] }

    public subscript(_ i: Int) -> ArraySlice<UInt8> {
        bytes[(i == 0 ? start : fieldEnds[i - 1] + 1)..<fieldEnds[i]]
    }

    public func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

    public func field(_ i: Int, is text: String) -> Bool { self[i].elementsEqual(text.utf8) }

    /// A field of decimal digits as a number; nil for anything else (a sign, a
    /// space, an empty field) or a value over UInt32.max.
    public func number(_ i: Int) -> UInt32? {
        let digits = self[i]
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for d in digits {
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(d - UInt8(ascii: "0"))
            if value > UInt64(UInt32.max) { return nil }
        }
        return UInt32(value)
    }
}
