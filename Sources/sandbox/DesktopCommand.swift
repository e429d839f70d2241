import ArgumentParser
import SandboxCore
import SandboxDesktop
import SandboxRuntime

struct DesktopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desktop",
        abstract: "Install or remove a profile's .desktop launcher.",
        subcommands: [Install.self, Remove.self]
    )

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Write $XDG_DATA_HOME/applications/sandbox-NAME.desktop (default ~/.local/share/applications).",
            discussion: """
                The entry is named desktop.name as written (or "NAME (sandboxed)" without one) and runs \
                `sandbox run NAME` with this sandbox binary's absolute path; profiles that \
                list desktop.mime_types also get the files or URLs the menu passes (%U). \
                An existing file with that name is replaced only if sandbox wrote it.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile name.", completion: NameCompletion.profiles) var profile: String
        func run() async throws {
            _ = try global.bootstrap()
            let env = Environment.current
            let user = UserIdentity.current(environment: env)
            let paths = Paths.current(environment: env, user: user)
            let loaded = try ProfileStore(paths: paths, user: user).load(profile)
            let entry = DesktopEntry(profile: loaded, sandboxPath: Paths.executablePath())
            let launchers = DesktopLaunchers(directory: DesktopLaunchers.userDirectory(environment: env, home: user.home))
            let written = try launchers.install(entry)
            // Menus pick up MimeType associations from the cache; best effort, as desktop-file-install does.
            if !loaded.desktop.mimeTypes.isEmpty, let update = HostCommand.find("update-desktop-database") {
                _ = try? await HostCommand([update, launchers.directory]).run(capture: .combined)
            }
            Console.out("installed \(written)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a profile's .desktop launcher (only one sandbox wrote).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The profile name.", completion: NameCompletion.profiles) var profile: String
        func run() async throws {
            _ = try global.bootstrap()
            let env = Environment.current
            let user = UserIdentity.current(environment: env)
            // No profile load: a launcher must be removable after its profile was deleted.
            let launchers = DesktopLaunchers(directory: DesktopLaunchers.userDirectory(environment: env, home: user.home))
            let removed = try launchers.remove(profile)
            Console.out("removed \(removed)")
        }
    }
}
