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
