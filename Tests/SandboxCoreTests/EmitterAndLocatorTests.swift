import Testing
@testable import SandboxCore

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
        let loc = KeyLocator(source: source)
        func line(_ c: [KeyPath.Component]) -> Int? { loc.line(for: KeyPath(c)) }
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
        // Unknown paths fall back to the nearest ancestor.
        #expect(line([.key("mount"), .index(1), .key("readonly")]) == 19)
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
        #expect(reparsed == original)
        #expect(reparsed.mounts.count == 2)
    }

    @Test func defaultsRoundTrip() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let original = try store.parse(source: "", file: tree.root + "/x.toml", name: "x")
        let again = try store.parse(source: TOMLEmitter.emit(original), file: tree.root + "/x.toml", name: "x")
        #expect(again == original)
    }

    @Test func quotingEscapesControlCharacters() {
        #expect(TOMLEmitter.quoted("a\"b\\c\nd\u{01}") == "\"a\\\"b\\\\c\\nd\\u0001\"")
    }
}
