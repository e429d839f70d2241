import SandboxPlan
import SandboxTestSupport
import Testing

/// byteSplit must give what split(separator:) gives (it replaces it on the start
/// path), except that a "\r\n" pair, one Character, is split at its "\n".
@Test func byteSplitAgreesWithCharacterSplit() {
    var rng = SplitMix(seed: 0x5EED_0001)
    // Separators, multi-byte scalars and combining marks next to them.
    let alphabet: [String] = [":", "\n", "a", "0", " ", "é", "e\u{301}", ":\u{301}", "😀", "ß"]
    for _ in 0..<2_000 {
        let text = (0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
        for separator: Character in [":", "\n"] {
            for omitting in [true, false] {
                let expected = text.split(separator: separator, omittingEmptySubsequences: omitting).map(String.init)
                let got = text.byteSplit(separator.unicodeScalars.first!, omittingEmptySubsequences: omitting).map(String.init)
                // ":\u{301}" is one Character, so split(separator:) does not cut there; byteSplit does.
                if text.contains(":\u{301}") && separator == ":" { continue }
                #expect(got == expected, "\(text.debugDescription) on \(separator.debugDescription)")
            }
        }
    }
}

@Test func byteSplitCutsSubstringsAndCRLF() {
    let line = "x:root:x:0:0::/root:/bin/sh".dropFirst(2)
    #expect(line.byteSplit(":", omittingEmptySubsequences: false) == ["root", "x", "0", "0", "", "/root", "/bin/sh"])
    #expect("a\r\nb\n".byteSplit("\n") == ["a\r", "b"])
    #expect("".byteSplit(":", omittingEmptySubsequences: false) == [""])
    #expect("".byteSplit(":").isEmpty)
    #expect("::".byteSplit(":", omittingEmptySubsequences: false) == ["", "", ""])
}

@Test func colonRecordsSkipsEmptyLines() {
    let records = "root:x:0:\n\nsudo:x:27:alice,bob\n".colonRecords()
    #expect(records == [["root", "x", "0", ""], ["sudo", "x", "27", "alice,bob"]])
}

/// ColonDatabase reads the records and fields colonRecords reads.
@Test func colonDatabaseAgreesWithColonRecords() {
    var rng = SplitMix(seed: 0x5EED_0002)
    let alphabet: [String] = [":", "\n", "a", "0", "7", " ", "é", "😀", "\r", "+", "-", "4294967295", "4294967296"]
    for _ in 0..<2_000 {
        let text = (0..<Int.random(in: 0...30, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
        var got: [[String]] = []
        var lines: [String] = []
        ColonDatabase(text).forEachRecord { r in
            got.append((0..<r.count).map { r.string($0) })
            lines.append(String(decoding: r.line, as: UTF8.self))
            for i in 0..<r.count {
                let field = r.string(i)
                #expect(r.field(i, is: field))
                // Decimal digits only: no sign or space that UInt32(_:) would take or refuse.
                let digitsOnly = !field.isEmpty && field.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
                #expect(r.number(i) == (digitsOnly ? UInt32(field) : nil), "\(field.debugDescription)")
            }
        }
        #expect(got == text.colonRecords().map { $0.map(String.init) }, "\(text.debugDescription)")
        #expect(lines == text.byteSplit("\n").map(String.init), "\(text.debugDescription)")
    }
}
