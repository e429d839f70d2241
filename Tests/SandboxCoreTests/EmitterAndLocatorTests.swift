import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SandboxCore

/// Every key and value carries the line it was written on.
@Suite struct KeyLocating {
    @Test func tablesArraysOfTablesDottedAndInlineKeys() {
        let source = """
            # comment with key = "value"
            description = \"\"\"
            fake = 1
            [fake]
            \"\"\"
            command = [
              "a",   # first
              "b",
            ]
            pulse.mode = "module"
            x11 = { mode = "trusted", required = false }

            [env]
            "QUOTED.KEY" = "x"
            PLAIN = 'y'

            [[mount]]
            source = "/a"
            [[mount]]
            source = "/b"
            target = "/c"
            """
        guard case .success(let tree) = TOMLTree.parse(source: source, file: "f.toml") else {
            Issue.record("rejected")
            return
        }
        func line(_ c: [KeyPath.Component]) -> Int? { tree.node(at: c)?.line }
        #expect(line([.key("description")]) == 2)
        #expect(line([.key("fake")]) == nil)
        #expect(line([.key("command")]) == 6)
        #expect(line([.key("command"), .index(0)]) == 7)
        #expect(line([.key("command"), .index(1)]) == 8)
        #expect(line([.key("pulse"), .key("mode")]) == 10)
        #expect(line([.key("x11"), .key("required")]) == 11)
        #expect(line([.key("env")]) == 13)
        #expect(line([.key("env"), .key("QUOTED.KEY")]) == 14)
        #expect(line([.key("env"), .key("PLAIN")]) == 15)
        #expect(line([.key("mount"), .index(0), .key("source")]) == 18)
        #expect(line([.key("mount"), .index(1)]) == 19)
        #expect(line([.key("mount"), .index(1), .key("target")]) == 21)
        #expect(line([.key("mount"), .index(1), .key("readonly")]) == nil)
        // Every node knows its own path.
        #expect(tree.node(at: [.key("mount"), .index(1), .key("target")])?.path.description == "mount[1].target")
    }

    @Test func keyPathsPrintAsWritten() {
        #expect(KeyPath([.key("mount"), .index(2), .key("target")]).description == "mount[2].target")
        #expect(KeyPath([.key("env"), .key("A.B")]).description == "env.\"A.B\"")
    }
}

@Suite struct Emitting {
    @Test func showOutputReparsesToTheSameProfile() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/gui.toml", """
            [x11]
            mode = "trusted"
            [devices]
            dri = true
            [[mount]]
            source = "/tmp/.X11-unix"
            """)
        tree.write("\(tree.userDir)/app.toml", """
            include = ["gui"]
            description = "Quotes \\" and \\\\ and tab\\t and ünïcode"
            command = ["app", "--flag=a b"]
            [rootfs]
            mode = "image"
            path = "/srv/rootfs"
            [idmap]
            uid = ["0 100000 1000", "1000 1000 1", "1001 101001 64535"]
            [network]
            mode = "veth"
            bridge = "br9"
            [pulse]
            mode = "unfiltered-host-socket"
            microphone = true
            [env]
            Z = "last"
            A = "first"
            [[mount]]
            source = "~/Downloads"
            target = "~/Downloads"
            readonly = false
            optional = true
            [seccomp]
            deny = ["ptrace"]
            [image]
            packages = ["firefox-esr"]
            [desktop]
            name = "App"
            categories = ["Utility"]
            mime_types = ["text/plain"]
            """)
        let original = try store.load("app")
        let text = TOMLEmitter.emit(original)
        #expect(text.contains("# Includes already applied: gui"))
        #expect(!text.contains("include ="))
        var reparsed = try store.parse(source: text, file: tree.root + "/elsewhere/app.toml", name: "app")
        reparsed.sourcePath = original.sourcePath
        reparsed.include = original.include
        reparsed.sourceFingerprint = original.sourceFingerprint
        #expect(reparsed == original)
        #expect(reparsed.mounts.count == 2)
        #expect(reparsed.pulse.microphone && reparsed.pulse.mode == .unfilteredHostSocket)
    }

    @Test func defaultsRoundTrip() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let original = try store.parse(source: "", file: tree.root + "/x.toml", name: "x")
        var again = try store.parse(source: TOMLEmitter.emit(original), file: tree.root + "/x.toml", name: "x")
        again.sourceFingerprint = original.sourceFingerprint  // of another text, by design
        #expect(again == original)
    }

    @Test func quotingEscapesControlCharacters() {
        #expect(TOMLEmitter.quoted("a\"b\\c\nd\u{01}") == "\"a\\\"b\\\\c\\nd\\u0001\"")
    }
}
/// Garbage in never crashes or hangs the parser or the locator: every string of
/// TOML-significant characters either parses or gives one syntax error with a line.
@Suite struct RobustParsing {
    /// toml++ (in TOMLKit 0.6.0, the reader before TOMLParser) aborted on these instead of reporting an error.
    @Test(arguments: ["[}", "[\n", "[ \n", "[[\n", "[#", "[=", "[ }", "[[}", "[.a]", "a = 1\n\n  [ {x}\n", "a = [}", "a=[1,}", "a = [\u{2028}]", "a = {b = [}]}", "a = [[}]]", "v=1979-05-27T:", "v = [1979-05-27T:]", "v = {w = 1979-05-27T:}"])
    func malformedTableHeadersAreSyntaxErrorsNotCrashes(text: String) {
        guard case .failure(let e) = TOMLTree.parse(source: text, file: "f.toml") else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(e.kind == .syntax)
        #expect(e.location.line == (text.hasPrefix("a = 1\n") ? 3 : 1))
    }

    @Test(arguments: ["1", "+1", "-0", "1_000", "0xDEAD_beef", "0o755", "0b1010", "3.14", "-0.01", "5e+22", "1E6", "6.626e-34",
                      "inf", "+inf", "-nan", "true", "false", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00.999-07:00",
                      "1979-05-27t07:32:00", "1979-05-27", "07:32:00", "00:32:00.999999"])
    func validScalarsAreAccepted(token: String) {
        guard case .success = TOMLTree.parse(source: "v = \(token)\nw = [\(token), \(token)]\n", file: "f.toml") else {
            Issue.record("rejected \(token)")
            return
        }
    }

    @Test(arguments: ["trusted", "01", "1__0", "_1", "1_", "0x", "1.", ".5", "1e", "tru", "1979-05-27T:", "1979-5-27", "7:32:00", "1979-05-27T07:32",
                      "9223372036854775808", "-9223372036854775809", "0x8000000000000000", "1979-02-29", "24:00:00", "+0x1", "0X1", "1e400"])
    func invalidScalarsAreRejected(token: String) {
        guard case .failure(let e) = TOMLTree.parse(source: "\n\nv = \(token)\n", file: "f.toml") else {
            Issue.record("accepted \(token)")
            return
        }
        #expect(e.kind == .syntax && e.location.line == 3 && e.message.contains("\(token) is not a valid value"), "\(e)")
    }

    @Test func integersAreSixtyFourBit() {
        guard case .success(let tree) = TOMLTree.parse(source: "a = 9223372036854775807\nb = -9223372036854775808\nc = 0x7FFF_FFFF_FFFF_FFFF\n", file: "f.toml") else {
            Issue.record("rejected")
            return
        }
        #expect(tree["a"]?.shortText == "9223372036854775807" && tree["b"]?.shortText == "-9223372036854775808"
                && tree["c"]?.shortText == "9223372036854775807")
    }

    @Test func unquotedStringsGetAHelpfulMessage() {
        guard case .failure(let e) = TOMLTree.parse(source: "[x11]\nmode = trusted\n", file: "f.toml") else {
            Issue.record("accepted an unquoted string")
            return
        }
        #expect(e.description == "f.toml:2: TOML syntax error at column 8: trusted is not a valid value (strings need double quotes, e.g. \"trusted\"; numbers, true and false do not)")
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        for (prefix, opener, suffix) in [("x = ", "[", ""), ("x = ", "{b=", ""), ("[", "a.", "a]"), ("a", ".a", " = 1")] {
            let text = "a = 1\n" + prefix + String(repeating: opener, count: 300_000) + suffix
            guard case .failure(let e) = TOMLTree.parse(source: text, file: "f.toml") else {
                Issue.record("accepted \(opener) nesting")
                continue
            }
            #expect(e.location.line == 2 && e.message.contains("nested more than 64 deep"), "\(e)")
        }
        // Nesting within the limit is fine.
        let ok = "x = " + String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        if case .failure(let e) = TOMLTree.parse(source: ok, file: "f.toml") { Issue.record("\(e)") }
    }

    @Test func validBracketsInValuesAreNotMistakenForHeaders() {
        let text = "a = [\n  [{ x = 1 }],\n  [ [2] ],\n]\ns = \"\"\"\n[}\n\"\"\"\nt = '''\n[=\n'''\n"
        if case .failure(let e) = TOMLTree.parse(source: text, file: "f.toml") {
            Issue.record("rejected valid TOML: \(e)")
        }
    }

    @Test func randomTextNeverCrashes() {
        let alphabet = Array("[]{}=\"'#.,\n \t\\abcx0-_:1\u{e9}[[]]{}\r+e\"\"\"'''")
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(alphabet.count))
        }
        for _ in 0..<20000 {
            let length = next() * 2
            let text = String((0..<length).map { _ in alphabet[next()] })
            switch TOMLTree.parse(source: text, file: "fuzz.toml") {
            case .success(let tree): #expect(tree.entries != nil)
            case .failure(let e): #expect(e.kind == .syntax && e.location.line != nil, "\(e)")
            }
        }
    }
}

/// Mutations of real profiles (characters inserted, deleted, slices copied):
/// near-valid text reaches deep into the parser. SANDBOX_FUZZ_ITERATIONS runs
/// longer campaigns; SANDBOX_FUZZ_LOG names a file that holds the input being
/// parsed, so a crash leaves its reproducer behind.
@Suite struct MutationFuzzing {
    @Test func mutatedProfilesNeverCrash() {
        let env = Environment.current
        let iterations = env["SANDBOX_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 4000
        let log = env["SANDBOX_FUZZ_LOG"]
        var seeds: [[Character]] = []
        for file in ShippedProfiles().store().profileFiles() {
            if case .success(let text) = ProfileFiles.readText(file) { seeds.append(Array(text)) }
        }
        seeds.append(Array("x = { a = [1, {b = 2}], c = \"\"\"\nq\"\"\" }\n[[mount]]\nsource = '~'\n[t.u]\nv = 1979-05-27T07:32:00Z\n"))
        #expect(seeds.count >= 7)
        let alphabet = Array("[]{}=\"'#.,\n \t\\ax0-_:1\u{e9}\u{2028}\u{85}\u{a0}\r+e")
        var state: UInt64 = UInt64(env["SANDBOX_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x2545F4914F6CDD1D)
        func next(_ n: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(max(n, 1)))
        }
        for _ in 0..<iterations {
            var text = seeds[next(seeds.count)]
            for _ in 0...next(4) {
                let at = next(text.count + 1)
                switch next(3) {
                case 0: text.insert(alphabet[next(alphabet.count)], at: at)
                case 1: if at < text.count { text.remove(at: at) }
                default:
                    let from = next(text.count + 1), length = min(next(20), text.count - from)
                    text.insert(contentsOf: text[from..<(from + length)], at: at)
                }
            }
            let source = String(text)
            if let log, case .success = ProfileFiles.readText(log) {
                let fd = open(log, O_WRONLY | O_TRUNC)
                var bytes = Array(source.utf8)
                _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            switch TOMLTree.parse(source: source, file: "fuzz.toml") {
            case .success(let tree): #expect(tree.entries != nil)
            case .failure(let e): #expect(e.kind == .syntax && e.location.line != nil, "\(e)")
            }
        }
    }
}
