import SystemPackage
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SandboxCore

@Suite struct HostFileTests {
    @Test func readsWholeFilesAndSaysWhyNot() {
        let tree = TempTree()
        defer { tree.remove() }
        let big = String(repeating: "x", count: 40_000)   // several read chunks
        let path = tree.write("a/file", big)
        #expect(HostFile.read(path) == big)
        #expect(throws: Errno.fileTooLarge) { try HostFile.readBytes(path, limit: 39_999).get() }
        #expect(throws: Errno.isDirectory) { try HostFile.readBytes(tree.root + "/a").get() }
        #expect(throws: Errno.noSuchFileOrDirectory) { try HostFile.readBytes(tree.root + "/missing").get() }
        #expect(HostFile.read(tree.root + "/missing") == nil)
    }

    @Test func writeAtomicallyReplacesWithTheModeAndLeavesNoTemporaryFile() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let path = tree.write("state", "old contents that are longer\n")
        let old = umask(0o022)
        defer { umask(old) }
        try HostFile.writeAtomically("new\n", to: path, mode: 0o600)
        #expect(HostFile.read(path) == "new\n")
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(listing(tree.root) == ["state"])
    }

    @Test func writeAtomicallyDoesNotFollowASymlinkPlantedAtItsTemporaryName() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let victim = tree.write("victim", "keep\n")
        let path = tree.root + "/state"
        symlink(victim, tree.root + "/.state.\(getpid()).tmp")
        try HostFile.writeAtomically("new\n", to: path, mode: 0o600)
        #expect(HostFile.read(victim) == "keep\n")
        #expect(HostFile.read(path) == "new\n")
    }

    @Test func writeAtomicallyNamesThePathWhenItCannotWrite() {
        let e = #expect(throws: SandboxError.self) {
            try HostFile.writeAtomically("x", to: "/nonexistent-dir/file", mode: 0o600)
        }
        #expect(e?.message == "cannot write /nonexistent-dir/file: no such file or directory")
    }

    @Test func makeDirectoriesCreatesEveryLevelWithTheModeAndNamesTheOneThatFailed() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let old = umask(0o022)
        defer { umask(old) }
        try HostFile.makeDirectories(tree.root + "/a/b/c", mode: 0o700)
        try HostFile.makeDirectories(tree.root + "/a/b/c", mode: 0o700)   // existing: fine
        for dir in ["/a", "/a/b", "/a/b/c"] {
            var st = stat()
            #expect(stat(tree.root + dir, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR && st.st_mode & 0o777 == 0o700, "\(dir)")
        }
        let file = tree.write("plain", "")
        let e = #expect(throws: SandboxError.self) { try HostFile.makeDirectories(file + "/x/y", mode: 0o700) }
        #expect(e?.message == "cannot create \(file)/x: not a directory")
    }

    @Test(arguments: [("/a/b", "/a", "b"), ("/a", "/", "a"), ("a", ".", "a"), ("a/b/", "a/b", "")])
    func dirnameAndBasename(path: String, dir: String, base: String) {
        #expect(HostFile.dirname(path) == dir)
        #expect(HostFile.basename(path) == base)
    }

    // The one ~ expansion (profiles, mounts, rootfs.path): only ~ and ~/…; a home
    // with a trailing slash gives no double slash.
    @Test(arguments: [("~", "/home/u", "/home/u"), ("~/a/b", "/home/u", "/home/u/a/b"), ("~/a", "/home/u/", "/home/u/a"),
                      ("/abs", "/home/u", "/abs"), ("~other/a", "/home/u", "~other/a"), ("rel/~", "/home/u", "rel/~")])
    func expandHome(path: String, home: String, expanded: String) {
        #expect(HostFile.expandHome(path, home: home) == expanded)
    }

    func listing(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n != "." && n != ".." { names.append(n) }
        }
        return names.sorted()
    }
}
