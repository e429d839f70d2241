import SandboxCore
import SandboxMediators
import Testing
@testable import SandboxDesktop
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

@Suite struct X11DisplayTests {
    @Test(arguments: [(":0", 0), (":0.0", 0), ("unix:12", 12), (":77.1", 77), ("/tmp/.X11-unix/X3", 3)])
    func parsesLocalDisplays(value: String, number: Int) throws {
        let d = try X11Display.parse(value)
        #expect(d.number == UInt32(number))
        #expect(d.socketPath == "/tmp/.X11-unix/X\(number)")
        #expect(d.insideName == ":\(number)")
    }

    @Test(arguments: ["", "localhost:10.0", "example.org:0", ":", ":x", ":0.x", "/tmp/.X11-unix/Xa", "0"])
    func rejectsWhatAContainerCannotReach(value: String) {
        #expect(throws: SandboxError.self) { try X11Display.parse(value) }
    }

    @Test func networkDisplayErrorSaysWhyAndHowToFix() {
        do {
            _ = try X11Display.parse("localhost:10.0")
            Issue.record("parsed a TCP display")
        } catch {
            #expect(error.message.contains("network display"))
            #expect(error.hint?.contains("x11.mode = \"none\"") == true)
        }
    }
}

@Suite struct XauthSelectionTests {
    func entry(_ family: UInt16, _ host: String, _ number: String, _ cookie: UInt8) -> XauthEntry {
        XauthEntry(family: family, address: Array(host.utf8), number: number, name: "MIT-MAGIC-COOKIE-1",
                   data: [UInt8](repeating: cookie, count: 16))
    }

    @Test func keepsOnlyThisDisplayOfThisHostAsWild() {
        let all = [
            entry(XauthEntry.familyLocal, "myhost", "0", 1),
            entry(XauthEntry.familyLocal, "myhost", "1", 2),
            entry(XauthEntry.familyLocal, "otherhost", "0", 3),
            entry(0, "\u{7f}\0\0\u{1}", "0", 4),   // FamilyInternet (TCP)
        ]
        let picked = XauthSelection.entries(from: all, display: 0, hostname: "myhost")
        #expect(picked.count == 1)
        #expect(picked.first?.family == XauthEntry.familyWild)
        #expect(picked.first?.number == "0")
        #expect(picked.first?.address == [])
        #expect(picked.first?.data == [UInt8](repeating: 1, count: 16))
    }

    @Test func wildEntriesAndAnyDisplayEntriesCount() {
        let all = [entry(XauthEntry.familyWild, "", "7", 5), entry(XauthEntry.familyLocal, "h", "", 6)]
        #expect(XauthSelection.entries(from: all, display: 7, hostname: "h").map(\.data.first) == [5])
        #expect(XauthSelection.entries(from: all, display: 8, hostname: "h").map(\.data.first) == [6])
    }
}

/// The pure-Swift Xauthority files the launcher (trusted mode) and the X11
/// proxy (untrusted mode) write. That X clients read them back is checked by
/// `xauth list` (libXau) in Tests/Integration/desktop.test.sh.
@Suite struct XauthorityFileTests {
    @Test func writtenFileReadsBackAsOneWildEntry() throws {
        let tmp = TemporaryDirectory(prefix: "sandbox-desktop-test")
        let dir = tmp.path
        defer { tmp.remove() }
        let host = [
            XauthEntry(family: XauthEntry.familyLocal, address: Array("box".utf8), number: "0", name: "MIT-MAGIC-COOKIE-1", data: Array(0..<16)),
            XauthEntry(family: XauthEntry.familyLocal, address: Array("box".utf8), number: "3", name: "MIT-MAGIC-COOKIE-1", data: Array(16..<32)),
        ]
        try Xauthority.write(host, to: dir + "/host")
        let picked = XauthSelection.entries(from: try Xauthority.read(dir + "/host"), display: 3, hostname: "box")
        try Xauthority.write(picked, to: dir + "/Xauthority")

        let back = try Xauthority.read(dir + "/Xauthority")
        #expect(back.count == 1)
        #expect(back[0].family == XauthEntry.familyWild)
        #expect(back[0].number == "3")
        #expect(back[0].name == "MIT-MAGIC-COOKIE-1")
        #expect(back[0].data == Array(16..<32))

        var st = stat()
        #expect(stat(dir + "/Xauthority", &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
    }

    /// The bytes libXau writes for one FamilyWild entry (xauth -f F add :82 …),
    /// written out by hand: family ffff, empty address, "82", the name, 16 bytes.
    @Test func wildEntryBytesAreLibXausFormat() {
        let entry = XauthEntry(family: XauthEntry.familyWild, address: [], number: "82", name: "MIT-MAGIC-COOKIE-1", data: Array(100..<116))
        let expected: [UInt8] = [0xff, 0xff, 0, 0, 0, 2] + Array("82".utf8) + [0, 18] + Array("MIT-MAGIC-COOKIE-1".utf8) + [0, 16] + Array(100..<116)
        #expect(Xauthority.encode([entry]) == expected)
    }

    @Test func missingFileIsEmptyAndUnreadableIsAnError() throws {
        #expect(try Xauthority.read("/nonexistent/Xauthority").isEmpty)
        #expect(throws: SandboxError.self) { try Xauthority.read("/proc/self/mem/x") }
    }
}
