import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SandboxCore
import SandboxTestSupport

/// A seeded byte-level mutation fuzz run of the TOML parser, like PlanCodec's:
/// the shipped profiles and toml-test's valid documents (when Debian's
/// golang-github-burntsushi-toml-dev is installed), mutated by bit flips,
/// boundary and TOML-significant bytes, cuts and splices. Every input must parse
/// or give one syntax error with a line, quickly; everything accepted must
/// survive a round trip through the emitter (and, when it is a valid profile,
/// through `profile show`'s emitter). SANDBOX_FUZZ_ITERATIONS and
/// SANDBOX_FUZZ_SEED run other campaigns.
@Suite struct TOMLByteFuzzing {
    static let suiteDir = "/usr/share/gocode/src/github.com/BurntSushi/toml/internal/toml-test/tests/valid"

    static func seeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for file in ShippedProfiles().store().profileFiles() {
            if case .success(let b) = HostFile.readBytes(file) { seeds.append(b) }
        }
        for dir in (ProfileFiles.list(suiteDir) ?? []).map({ suiteDir + "/" + $0 }) + [suiteDir] {
            for name in ProfileFiles.list(dir) ?? [] where name.hasSuffix(".toml") {
                if case .success(let b) = HostFile.readBytes(dir + "/" + name) { seeds.append(b) }
            }
        }
        seeds.append(Array("a = \"\"\"\\\n  x\"\"\"\"\nb = '''\r\n'''\nc = [1, 2.5e-3, -inf, nan, 0x_F, 1979-05-27 07:32:00+01:00, {d.e = 'f'}]\n[[t.u]]\n[t.u.v]\n".utf8))
        return seeds
    }

    @Test func mutatedDocumentsParseOrFailCleanlyAndRoundTrip() {
        let env = Environment.current
        let iterations = env["SANDBOX_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 6000
        var rng = SplitMix(seed: env["SANDBOX_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x70_6d_6c_66)
        let seeds = Self.seeds()
        #expect(seeds.count >= 8)
        let interesting: [UInt8] = Array("[]{}=\"'#.,\n\r \t\\_:+-eE0x".utf8) + [0, 0x7F, 0x80, 0xC3, 0xED, 0xFF]
        let store = ShippedProfiles().store()
        var accepted = 0, rejected = 0, profiles = 0
        var slowest: Duration = .zero
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            var b = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
                switch rng.next() % 6 {
                case 0: if !b.isEmpty { b[i] ^= UInt8(1 << (rng.next() % 8)) }
                case 1: if !b.isEmpty { b[i] = interesting[Int(rng.next() % UInt64(interesting.count))] }
                case 2: b.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: i)
                case 3: b.removeSubrange(i..<min(b.count, i + Int(rng.next() % 16)))
                case 4:
                    let j = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
                    b.insert(contentsOf: b[j..<min(b.count, j + Int(rng.next() % 24))], at: i)
                default:
                    // Repeat an opener: deep nesting must stop at the bound.
                    b.insert(contentsOf: repeatElement(interesting[Int(rng.next() % 4)], count: Int(rng.next() % 200)), at: i)
                }
            }
            let start = clock.now
            let result = TOMLTree.parse(bytes: b, file: "fuzz.toml")
            slowest = max(slowest, clock.now - start)
            switch result {
            case .failure(let e):
                rejected += 1
                let lines = b.count(where: { $0 == UInt8(ascii: "\n") }) + 1
                #expect(e.kind == .syntax && (1...lines).contains(e.location.line ?? 0), "\(e)")
            case .success(let tree):
                accepted += 1
                let text = TOMLEmitter.emit(document: tree)
                guard case .success(let again) = TOMLTree.parse(source: text, file: "again.toml") else {
                    Issue.record("the emitted document does not parse: \(text)")
                    continue
                }
                #expect(again.sameValue(as: tree), "round trip changed \(String(decoding: b, as: UTF8.self))")
                // A valid profile also survives `profile show`.
                if let p = try? store.parse(source: String(decoding: b, as: UTF8.self), file: ShippedProfiles.dir + "/fuzz.toml", name: "fuzz") {
                    profiles += 1
                    var q = try? store.parse(source: TOMLEmitter.emit(p), file: ShippedProfiles.dir + "/fuzz.toml", name: "fuzz")
                    q?.include = p.include
                    q?.sourceFingerprint = p.sourceFingerprint
                    #expect(q == p, "profile show round trip changed \(String(decoding: b, as: UTF8.self))")
                }
            }
        }
        #expect(accepted + rejected == iterations && accepted > 0 && rejected > 0)
        #expect(profiles > 0, "no mutated profile stayed a valid profile: that round trip was never run")
        #expect(slowest < .seconds(1), "one parse took \(slowest)")
    }

    @Test func largeInputIsBoundedNotSlow() {
        let big = [UInt8](repeating: UInt8(ascii: "#"), count: TOMLParser.maxBytes + 1)
        guard case .failure(let e) = TOMLTree.parse(bytes: big, file: "f.toml") else {
            Issue.record("accepted a file over the bound")
            return
        }
        #expect(e.message.contains("larger than"))
        // Long flat input within the bound is linear: 100,000 keys and a 100,000-element array.
        var text = ""
        for i in 0..<100_000 { text += "k\(i) = \(i)\n" }
        text += "a = [" + String(repeating: "1,", count: 100_000) + "]\n"
        let clock = ContinuousClock()
        let start = clock.now
        guard case .success(let tree) = TOMLTree.parse(source: text, file: "f.toml") else {
            Issue.record("rejected")
            return
        }
        #expect(tree.entries?.count == 100_001)
        #expect(clock.now - start < .seconds(10))
    }

    @Test func invalidUTF8IsAnErrorWithItsLine() {
        guard case .failure(let e) = TOMLTree.parse(bytes: Array("a = 1\nb = \"".utf8) + [0xC3, 0x28] + Array("\"\n".utf8), file: "f.toml") else {
            Issue.record("accepted invalid UTF-8")
            return
        }
        #expect(e.location.line == 2 && e.message.contains("not valid UTF-8"), "\(e)")
    }

    @Test(arguments: [
        ("a = 1\na = 2\n", 2, "defined twice"),
        ("[a]\nb = 1\n[a]\n", 3, "defined twice"),
        ("a.b = 1\n[a]\n", 2, "by dotted keys"),
        ("[a.b]\n[a]\nb.c = 1\n", 3, "adds to the table"),
        ("a = {b = 1}\n[a.c]\n", 2, "inline table"),
        ("a = [1]\n[[a]]\n", 2, "already an array"),
        ("[[a]]\n[a]\n", 2, "array of tables"),
        ("x = { a = 1,\n b = 2 }\n", 1, "on one line"),
        ("s = \"abc\n", 1, "closing"),
        ("s = \"\\x\"\n", 1, "is not a TOML escape"),
        ("s = \"\\uD800\"\n", 1, "not a Unicode scalar"),
        ("a = 1 2\n", 1, "end of the line"),
        ("a = 1\r\nb = 2\rc = 3\n", 2, "carriage return"),
        ("# \u{7F}\n", 1, "control character U+007F"),
    ])
    func redefinitionsAndSyntaxErrorsNameTheLineAndWhy(text: String, line: Int, words: String) {
        guard case .failure(let e) = TOMLTree.parse(source: text, file: "f.toml") else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(e.location.line == line && e.message.contains(words), "\(e)")
    }
}

