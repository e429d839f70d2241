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
            repositories in image.sources need their keys listed in image.keys.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Replace an existing rootfs (the new one is built first; the old one is deleted after the swap).")
    var force = false

    @Argument(help: "The profile name.")
    var profile: String

    func run() async throws {
        let log = try global.bootstrap()
        let env = Environment.current
        let user = UserIdentity.current(environment: env)
        let paths = Paths.current(environment: env, user: user)
        let loaded = try ProfileStore(paths: paths, user: user).load(profile)
        let builder = try ImageBuilder(profile: loaded, user: user, paths: paths)
        log.info("building \(loaded.image.distro) \(loaded.image.release) (\(loaded.image.variant)) into \(builder.target)")
        try await builder.build(force: force)
        Console.out("created \(builder.target)")
    }
}
