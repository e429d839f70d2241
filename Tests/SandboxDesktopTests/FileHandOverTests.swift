import Testing
import SandboxCore
@testable import SandboxDesktop
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

@Suite struct DBusWireFormat {
    @Test func aMethodCallHasTheSpecsLayout() throws {
        let m = DBusMessage.methodCall(serial: 1, destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                       interface: "org.freedesktop.DBus", member: "Hello")
        let bytes = try m.encoded()
        // 'l', method call, no flags, version 1, empty body, serial 1.
        #expect(Array(bytes.prefix(12)) == [0x6c, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0])
        #expect(bytes.count % 8 == 0)
        #expect(DBusMessage.totalLength(header16: Array(bytes.prefix(16))) == bytes.count)
        #expect(try DBusMessage.decode(bytes) == m)
    }

    @Test func addFullRoundTripsWithHandlesStringsAndNestedValues() throws {
        let body: [DBusValue] = [.array(elementSignature: "h", [.unixFD(0), .unixFD(1)]), .uint32(5), .string("org.sandbox.Profile.evince"),
                                 .array(elementSignature: "s", [.string("read"), .string("write")])]
        let m = DBusMessage.methodCall(serial: 7, destination: DocumentPortal.busName, path: DocumentPortal.objectPath,
                                       interface: DocumentPortal.busName, member: "AddFull", signature: "ahusas", body: body, unixFDs: 2)
        #expect(try DBusMessage.decode(try m.encoded()) == m)
        // A reply as the portal sends it: (as doc_ids, a{sv} extra_out).
        var reply = DBusMessage(kind: .methodReturn, serial: 9)
        reply.replySerial = 7
        reply.signature = "asa{sv}"
        reply.body = [.array(elementSignature: "s", [.string("a1b2c3d4")]),
                      .array(elementSignature: "{sv}", [.dictEntry(.string("mountpoint"), .variant(signature: "ay", .array(elementSignature: "y", [.byte(47)])))])]
        #expect(try DBusMessage.decode(try reply.encoded()) == reply)
    }

    @Test func hostileRepliesAreErrorsNotCrashes() throws {
        var reply = DBusMessage(kind: .methodReturn, serial: 9)
        reply.replySerial = 7
        reply.signature = "as"
        reply.body = [.array(elementSignature: "s", [.string("abc"), .string("def")])]
        let good = try reply.encoded()
        // Every truncation, and every single-byte change, decodes or throws; none traps.
        for n in 0..<good.count { _ = try? DBusMessage.decode(Array(good.prefix(n))) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bad = good
            bad[Int.random(in: 0..<bad.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            _ = try? DBusMessage.decode(bad)
        }
        // An array length far past the message.
        var huge = good
        let bodyStart = good.count - 20
        huge[bodyStart] = 0xff; huge[bodyStart + 1] = 0xff
        #expect(throws: SandboxError.self) { try DBusMessage.decode(huge) }
        // A signature nested beyond the bound.
        #expect(throws: SandboxError.self) { try DBusSignature.split(String(repeating: "a", count: 40) + "s") }
    }
}

@Suite struct FileArguments {
    let none: (String) -> Bool = { _ in false }

    @Test func urlsAndPathsNameFiles() {
        #expect(FileHandOver.reference("file:///tmp/a%20b.txt", cwd: "/", exists: none) == .init(path: "/tmp/a b.txt", isURL: true))
        #expect(FileHandOver.reference("file://localhost/tmp/x", cwd: "/", exists: none) == .init(path: "/tmp/x", isURL: true))
        #expect(FileHandOver.reference("/tmp/./d//x/../y", cwd: "/", exists: none) == .init(path: "/tmp/d/y", isURL: false))
        #expect(FileHandOver.reference("doc.pdf", cwd: "/home/u", exists: { $0 == "/home/u/doc.pdf" }) == .init(path: "/home/u/doc.pdf", isURL: false))
    }

    @Test func optionsOtherSchemesAndBadURLsAreLeftAlone() {
        let all: (String) -> Bool = { _ in true }
        #expect(FileHandOver.reference("--new-window", cwd: "/home/u", exists: all) == nil)
        #expect(FileHandOver.reference("-rf", cwd: "/home/u", exists: all) == nil)
        #expect(FileHandOver.reference("https://example.org/a", cwd: "/home/u", exists: all) == nil)
        #expect(FileHandOver.reference("file://otherhost/etc/passwd", cwd: "/", exists: all) == nil)
        #expect(FileHandOver.reference("file:///tmp/%00x", cwd: "/", exists: all) == nil)
        #expect(FileHandOver.reference("file:///tmp/%zz", cwd: "/", exists: all) == nil)
        #expect(FileHandOver.reference("file:///tmp/%ff", cwd: "/", exists: all) == nil)      // not UTF-8
        #expect(FileHandOver.reference("notes.txt", cwd: "/home/u", exists: none) == nil)
    }

    @Test func hostileNamesBecomeAbsolutePathsOrEncodedURLs() {
        let name = "-rf \"quoted\" 100% $(x)\nline"
        let asPath = FileHandOver.rewritten(.init(path: "/tmp/" + name, isURL: false), documentID: "ab12", name: name,
                                            documentsInside: "/run/user/1000/doc")
        #expect(asPath == "/run/user/1000/doc/ab12/" + name)
        #expect(asPath.hasPrefix("/"))
        let asURL = FileHandOver.rewritten(.init(path: "/tmp/" + name, isURL: true), documentID: "ab12", name: name,
                                           documentsInside: "/run/user/1000/doc")
        #expect(asURL == "file:///run/user/1000/doc/ab12/-rf%20%22quoted%22%20100%25%20%24%28x%29%0Aline")
        // Decoding what we wrote gives the path back.
        #expect(FileHandOver.reference(asURL, cwd: "/", exists: none)?.path == asPath)
    }

    @Test func openingFollowsTheUsersLinkAndNamesTheTarget() throws {
        let tmp = TemporaryDirectory(prefix: "sandbox-fho")
        defer { tmp.remove() }
        let dir = tmp.path
        let fd = open(dir + "/real.txt", O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        close(fd)
        #expect(symlink(dir + "/real.txt", dir + "/link") == 0)
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        let opened = try DocumentPortal.open(dir + "/link").get()
        defer { close(opened.fd) }
        #expect(opened.name == "real.txt" && !opened.isDirectory)
        // A FIFO (which would block the portal's reads) or a missing file is refused.
        #expect(throws: SandboxError.self) { try DocumentPortal.open(dir + "/fifo").get() }
        #expect(throws: SandboxError.self) { try DocumentPortal.open(dir + "/missing").get() }
    }

    @Test func filesGoInOneCallAndEachDirectoryInItsOwn() {
        func opened(_ kinds: String) -> [DocumentPortal.Opened] {
            kinds.enumerated().map { .init(fd: Int32($0.offset), name: "n\($0.offset)", isDirectory: $0.element == "d") }
        }
        #expect(DocumentPortal.batches(opened("fdfdd")) == [[0, 2], [1], [3], [4]])
        #expect(DocumentPortal.batches(opened("ff")) == [[0, 1]])
        #expect(DocumentPortal.batches(opened("dd")) == [[0], [1]])
        #expect(DocumentPortal.batches([]) == [])
    }
}
