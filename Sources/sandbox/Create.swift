#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Build an image rootfs for a profile with rootfs.mode = \"image\" (mmdebstrap).",
        discussion: """
            Runs `mmdebstrap --mode=unshare` as you (no root needed; it uses your \
            /etc/subuid and /etc/subgid ranges) with the profile's [image] settings, \
            builds into a temporary directory next to the target and renames it into \
            place: ~/.local/share/sandbox/NAME/rootfs, or rootfs.path. Third-party \
            repositories in image.sources need their keys listed in image.keys; \
            an https key is downloaded and must match image.key_fingerprints. \
            With --from-tarball FILE, unpacks a root filesystem tarball instead \
            (ids as in the tarball, shifted into your subordinate range). An \
            existing rootfs is replaced only after a yes on a terminal, or with --yes.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Replace an existing rootfs (the new one is built first; the old one is deleted after the swap).")
    var force = false

    @Flag(name: [.customShort("y"), .long], help: "Do not ask before replacing an existing rootfs (the same as --force).")
    var yes = false

    @Option(name: .customLong("from-tarball"), help: ArgumentHelp(
        "Unpack this root filesystem tarball (an LXC/Incus rootfs.tar.xz; gzip, xz, zstd, bzip2 or plain) instead of running mmdebstrap.",
        valueName: "FILE"))
    var tarball: String?

    @Argument(help: "The profile name.")
    var profile: String

    func run() async throws {
        let log = try global.bootstrap()
        let env = Environment.current
        let user = UserIdentity.current(environment: env)
        let paths = Paths.current(environment: env, user: user)
        let loaded = try ProfileStore(paths: paths, user: user).load(profile)
        let builder = try ImageBuilder(profile: loaded, user: user, paths: paths)
        var replace = force || yes
        var st = stat()
        if !replace && lstat(builder.target, &st) == 0 && isatty(0) == 1 {
            // Asked before the build, which takes minutes; the old rootfs stays until the new one is complete.
            try? HostFile.writeAll(2, Array("\(builder.target) already exists. Replace it with a new image (the old one is deleted once the new one is complete)? [y/N] ".utf8))
            let answer = (readLine() ?? "").lowercased()
            guard answer == "y" || answer == "yes" else {
                Console.say(.notice, "nothing changed")
                throw ExitCode(1)
            }
            replace = true
        }
        let source: ImageBuilder.Source
        if let tarball {
            source = .tarball(tarball)
        } else {
            source = .mmdebstrap
            log.info("building \(loaded.image.distro) \(loaded.image.release) (\(loaded.image.variant)) into \(builder.target)")
        }
        try await builder.build(force: replace, source: source) { Console.err("sandbox create: " + $0) }
        Console.out("created \(builder.target)")
    }
}
