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
