import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show one container's state (exit status 0 when running)."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The profile (container) name.", completion: NameCompletion.containers)
    var profile: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        _ = try global.bootstrap()
        let context = CommandContext.current()
        let d = Launcher.describe(context.directory, name: profile)
        // "stopped" only means something for a container that could run: a name that
        // is neither running nor a profile is most likely a typo.
        if d.state == "stopped" && ProfileStore(paths: context.paths, user: context.user).locate(profile) == nil {
            throw SandboxError("no container and no profile named '\(profile)'",
                               hint: "looked for \(profile).toml in \(context.paths.profileDirs.joined(separator: ", ")); "
                                   + "`sandbox list` shows running containers, `sandbox profile list` the profiles")
        }
        if json {
            Console.out(d.json)
        } else {
            var text = "\(d.name): \(d.state)"
            if let pid = d.pid { text += ", init pid \(pid), \(d.sessions) session\(d.sessions == 1 ? "" : "s")" }
            if let tasks = d.tasks { text += ", \(tasks) task\(tasks == 1 ? "" : "s")" + (d.taskLimit.map { " (limit \($0) per user)" } ?? "") }
            if d.persistent { text += ", started with `sandbox start`" }
            Console.out(text)
        }
        if d.state != "running" && d.state != "stopping" { throw ExitCode(1) }
    }
}
