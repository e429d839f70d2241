import Testing
import SandboxCore
@testable import SandboxDesktop
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

private func chrome() -> Profile {
    var p = Profile(name: "chrome", sourcePath: "/tmp/chrome.toml")
    p.description = "Google Chrome from Google's repository"
    p.desktop.name = "Google Chrome (sandboxed)"
    p.desktop.icon = "/opt/google/chrome/product_logo_256.png"
    p.desktop.categories = ["Network", "WebBrowser"]
    p.desktop.mimeTypes = ["text/html", "x-scheme-handler/https"]
    return p
}

@Test func chromeEntryHasEveryKey() {
    let text = DesktopEntry(profile: chrome(), sandboxPath: "/usr/local/bin/sandbox").text
    #expect(text == """
        [Desktop Entry]
        Type=Application
        Version=1.4
        Name=Google Chrome (sandboxed)
        Comment=Google Chrome from Google's repository
        Exec=/usr/local/bin/sandbox run chrome -- %U
        TryExec=/usr/local/bin/sandbox
        Icon=/opt/google/chrome/product_logo_256.png
        Terminal=false
        Categories=Network;WebBrowser;
        MimeType=text/html;x-scheme-handler/https;
        X-Sandbox-Profile=chrome

        """)
}

@Test func nameIsDesktopNameAsWrittenElseProfileName() {
    var p = Profile(name: "calc", sourcePath: "/x")
    #expect(DesktopEntry(profile: p, sandboxPath: "/b").displayName == "calc (sandboxed)")
    p.description = "A calculator"          // the Comment, not the name
    #expect(DesktopEntry(profile: p, sandboxPath: "/b").displayName == "calc (sandboxed)")
    p.desktop.name = ""
    #expect(DesktopEntry(profile: p, sandboxPath: "/b").displayName == "calc (sandboxed)")
    p.desktop.name = "Calculator"
    #expect(DesktopEntry(profile: p, sandboxPath: "/b").displayName == "Calculator")
    p.desktop.name = "Firefox ESR (sandboxed)"
    #expect(DesktopEntry(profile: p, sandboxPath: "/b").displayName == "Firefox ESR (sandboxed)")
}

/// Issue 10 #4: every shipped profile's launcher says "(sandboxed)" once, not twice.
@Test(arguments: ["demo", "firefox", "chromium", "google-chrome", "steam", "skype"])
func shippedLauncherNamesAreNotDoubled(name: String) throws {
    // Tests/SandboxDesktopTests/DesktopEntryTests.swift -> <checkout>/Profiles
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    let dir = parts.joined(separator: "/") + "/Profiles"
    let paths = Paths(configDir: "/nonexistent/sandbox", dataDir: "/nonexistent/data", runtimeDir: "/nonexistent/run",
                      profileDirs: [dir])
    var store = ProfileStore(paths: paths, user: UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice"))
    store.subuidFile = "/nonexistent/subuid"
    store.subgidFile = "/nonexistent/subgid"
    let profile = try store.load(name)
    let entry = DesktopEntry(profile: profile, sandboxPath: "/usr/bin/sandbox")
    #expect(entry.displayName == profile.desktop.name)
    #expect(entry.text.contains("\nName=\(profile.desktop.name ?? "")\n"))
    #expect(entry.displayName.ranges(of: "sandboxed").count <= 1, "\(entry.displayName)")
}

@Test func noFieldCodeWithoutMimeTypes() {
    var p = chrome()
    p.desktop.mimeTypes = []
    let e = DesktopEntry(profile: p, sandboxPath: "/usr/bin/sandbox")
    #expect(e.execLine == "/usr/bin/sandbox run chrome")
    #expect(!e.text.contains("MimeType="))
    #expect(!e.text.contains("%U"))
}

@Test func execArgumentsAreQuotedPerSpec() {
    #expect(DesktopEntry.quoteExecArgument("/usr/bin/sandbox") == "/usr/bin/sandbox")
    #expect(DesktopEntry.quoteExecArgument("/home/a b/bin/sandbox") == "\"/home/a b/bin/sandbox\"")
    #expect(DesktopEntry.quoteExecArgument("/opt/$HOME`x`\"q\"\\") == "\"/opt/\\$HOME\\`x\\`\\\"q\\\"\\\\\"")
    #expect(DesktopEntry.quoteExecArgument("100%") == "100%%")
    #expect(DesktopEntry.quoteExecArgument("a b%") == "\"a b%%\"")
    #expect(DesktopEntry.quoteExecArgument("") == "\"\"")
}

@Test func execValueIsStringEscapedAfterQuoting() {
    // A backslash inside a quoted argument is doubled by the quoting, then again by string escaping.
    let e = DesktopEntry(profile: Profile(name: "x", sourcePath: "/x"), sandboxPath: "/o p\\t/sandbox")
    #expect(e.text.contains("Exec=\"/o p\\\\\\\\t/sandbox\" run x\n"))
    #expect(e.text.contains("TryExec=/o p\\\\t/sandbox\n"))
}

@Test func stringValuesEscapeControlCharactersAndListSemicolons() {
    var p = Profile(name: "x", sourcePath: "/x")
    p.description = "line1\nline2\tend"
    p.desktop.categories = ["A;B"]
    let text = DesktopEntry(profile: p, sandboxPath: "/b").text
    #expect(text.contains("Comment=line1\\nline2\\tend\n"))
    #expect(text.contains("Categories=A\\;B;\n"))
}

@Test func markerIsReadOnlyFromTheMainGroup() {
    #expect(DesktopEntry.markedProfile(inText: "[Desktop Entry]\nName=x\nX-Sandbox-Profile=chrome\n") == "chrome")
    #expect(DesktopEntry.markedProfile(inText: "[Desktop Action new]\nX-Sandbox-Profile=chrome\n") == nil)
    #expect(DesktopEntry.markedProfile(inText: "[Desktop Entry]\nName=Chrome\n") == nil)
}

@Test func xdgDataHomeIsHonouredWhenAbsolute() {
    #expect(DesktopLaunchers.userDirectory(environment: ["XDG_DATA_HOME": "/d"], home: "/h") == "/d/applications")
    #expect(DesktopLaunchers.userDirectory(environment: ["XDG_DATA_HOME": "rel"], home: "/h") == "/h/.local/share/applications")
    #expect(DesktopLaunchers.userDirectory(environment: [:], home: "/h") == "/h/.local/share/applications")
}

@Test func installAndRemoveTouchOnlyOurFiles() throws {
    let tmp = TemporaryDirectory(prefix: "sandbox-desktop-test")
    defer { tmp.remove() }
    let dir = tmp.path
    let launchers = DesktopLaunchers(directory: dir + "/applications")
    let path = try launchers.install(DesktopEntry(profile: chrome(), sandboxPath: "/usr/bin/sandbox"))
    #expect(path == dir + "/applications/sandbox-chrome.desktop")
    #expect(HostFile.read(path)?.contains("X-Sandbox-Profile=chrome") == true)
    // Installing again replaces our own file.
    _ = try launchers.install(DesktopEntry(profile: chrome(), sandboxPath: "/usr/bin/sandbox"))

    // A file of the same name that we did not write is neither replaced nor removed.
    let foreign = dir + "/applications/sandbox-other.desktop"
    try HostFile.writeAtomically("[Desktop Entry]\nName=Other\n", to: foreign, mode: 0o644)
    var other = chrome()
    other.name = "other"
    #expect(throws: SandboxError.self) { try launchers.install(DesktopEntry(profile: other, sandboxPath: "/b")) }
    #expect(throws: SandboxError.self) { try launchers.remove("other") }
    #expect(HostFile.read(foreign) == "[Desktop Entry]\nName=Other\n")

    #expect(try launchers.remove("chrome") == path)
    #expect(HostFile.read(path) == nil)
    #expect(throws: SandboxError.self) { try launchers.remove("chrome") }
}

@Test func profileNamesCannotEscapeTheDirectory() {
    let launchers = DesktopLaunchers(directory: "/tmp/none")
    #expect(throws: SandboxError.self) { try launchers.remove("../../etc/x") }
    #expect(throws: SandboxError.self) { try launchers.remove(".hidden") }
    #expect(throws: SandboxError.self) { try launchers.remove("") }
}
