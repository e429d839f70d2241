#if canImport(Glibc)
import Glibc
#endif
import Testing
import SandboxCore
@testable import SandboxRuntime
import SandboxTestSupport

/// Real directories and symlinks in a fresh temporary directory.
private func scratch() -> String {
    TemporaryDirectory(prefix: "sandbox-treeremoval").path
}

private func write(_ path: String, _ text: String) {
    try! HostFile.writeAtomically(text, to: path, mode: 0o644)
}

private func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

@Suite struct TreeRemovalTests {
    @Test func deletesTheTreeAndNeverFollowsALinkOut() {
        let base = scratch()
        // Outside the tree: what links inside point at.
        mkdir(base + "/outside", 0o755)
        write(base + "/outside/file", "keep")
        // The tree: nested directories, links to the outside dir and file (absolute
        // and relative), a dangling link, and a directory its owner made 0500.
        let top = base + "/data"
        mkdir(top, 0o755)
        mkdir(top + "/rootfs", 0o755)
        mkdir(top + "/rootfs/etc", 0o755)
        mkdir(top + "/rootfs/etc/alternatives", 0o755)
        write(top + "/rootfs/etc/hostname", "x")
        symlink(base + "/outside", top + "/rootfs/etc/alternatives/dir-link")
        symlink(base + "/outside/file", top + "/rootfs/etc/alternatives/file-link")
        symlink("../../../outside", top + "/rootfs/etc/relative-link")
        symlink("/nonexistent/target", top + "/rootfs/dangling")
        mkdir(top + "/home", 0o755)
        mkdir(top + "/home/locked", 0o755)
        write(top + "/home/locked/f", "x")
        chmod(top + "/home/locked", 0o500)

        let problems = TreeRemoval.remove("data", in: base)
        #expect(problems.isEmpty, "\(problems)")
        #expect(!exists(top))
        #expect(exists(base + "/outside/file"))
        #expect(HostFile.read(base + "/outside/file") == "keep")
        _ = TreeRemoval.remove("outside", in: base)
        rmdir(base)
    }

    @Test func keepLeavesTheNamedEntryAndTheTop() {
        let base = scratch()
        let top = base + "/data"
        mkdir(top, 0o755)
        mkdir(top + "/home", 0o755)
        write(top + "/home/notes", "mine")
        mkdir(top + "/rootfs", 0o755)
        write(top + "/rootfs/f", "x")
        mkdir(top + "/.rootfs.partial-1", 0o755)
        #expect(TreeRemoval.remove("data", in: base, keep: ["home"]).isEmpty)
        #expect(exists(top + "/home/notes"))
        #expect(!exists(top + "/rootfs"))
        #expect(!exists(top + "/.rootfs.partial-1"))
        _ = TreeRemoval.remove("data", in: base)
        #expect(!exists(top))
        rmdir(base)
    }

    @Test func aLinkAsTheTopIsRemovedAsALink() {
        let base = scratch()
        mkdir(base + "/outside", 0o755)
        write(base + "/outside/file", "keep")
        symlink(base + "/outside", base + "/data")
        #expect(TreeRemoval.remove("data", in: base).isEmpty)
        #expect(!exists(base + "/data"))
        #expect(exists(base + "/outside/file"))
        #expect(TreeRemoval.remove("missing", in: base).isEmpty)
        _ = TreeRemoval.remove("outside", in: base)
        rmdir(base)
    }
}

@Test func compressionIsRecognisedFromTheFirstBytes() {
    #expect(ImageBuilder.compressionFlag(magic: [0x1f, 0x8b, 8, 0]) == "--gzip")
    #expect(ImageBuilder.compressionFlag(magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]) == "--xz")
    #expect(ImageBuilder.compressionFlag(magic: [0x28, 0xb5, 0x2f, 0xfd]) == "--zstd")
    #expect(ImageBuilder.compressionFlag(magic: Array("BZh9".utf8)) == "--bzip2")
    #expect(ImageBuilder.compressionFlag(magic: Array("./usr/bin".utf8)) == nil)
    #expect(ImageBuilder.compressionFlag(magic: [0x1f]) == nil)
    #expect(ImageBuilder.unpackArguments(staging: "/s", compression: "--xz").contains("--xz"))
}
