#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SandboxCore
import SandboxRuntime

struct Destroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Delete a container's data: its image rootfs and private home (~/.local/share/sandbox/NAME).",
        discussion: """
            Asks for confirmation on a terminal; --yes skips the question, and without \
            a terminal nothing is deleted unless --yes is given. Refuses while the \
            container runs. Symlinks inside the image or the home are deleted as links, \
            never followed. The profile and a rootfs.path outside the data directory \
            are not touched.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Keep the private home (NAME/home); delete the rest.")
    var keepHome = false

    @Flag(name: [.customShort("y"), .long], help: "Do not ask for confirmation.")
    var yes = false

    @Argument(help: "The container (profile) name.", completion: NameCompletion.dataDirectories)
    var name: String

    func validate() throws {
        if let problem = ProfileName.problem(name) { throw ValidationError(problem) }
    }

    func run() async throws {
        _ = try global.bootstrap()
        let context = CommandContext.current()
        let data = context.paths.dataDir + "/" + name
        var st = stat()
        guard lstat(data, &st) == 0 else {
            throw SandboxError("nothing to destroy: \(data) does not exist")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw SandboxError("\(data) is not a directory; not touching it")
        }
        // Held until the end: no `run` can start the container while it is being deleted.
        let lock = try context.directory.lock(name)
        defer { lock.close() }
        if case .running(let state) = context.directory.status(name) {
            throw SandboxError("\(name) is running (init pid \(state.initPid)); not deleting its data",
                               hint: "stop it first: sandbox stop \(name)")
        }
        let what = keepHome ? "everything in \(data) except home/" : "\(data) (its image rootfs and private home)"
        if !yes {
            guard isatty(0) == 1 else {
                throw SandboxError("not deleting \(what) without confirmation: standard input is not a terminal",
                                   hint: "sandbox destroy --yes \(keepHome ? "--keep-home " : "")\(name)")
            }
            try? HostFile.writeAll(2, Array("Delete \(what)? This cannot be undone. [y/N] ".utf8))
            let answer = (readLine() ?? "").lowercased()
            guard answer == "y" || answer == "yes" else {
                Console.say(.notice, "nothing deleted")
                throw ExitCode(1)
            }
        }
        Console.err("sandbox destroy: deleting \(what)")
        // Image files belong to the user's subordinate ids: delete as root of the
        // namespace `create` unpacked them in. Without a range, only the user's own
        // ids can exist there, and the user deletes them directly.
        let keep: [String] = keepHome ? ["home"] : []
        var problem: String? = nil
        let namespace = ImageBuilder.namespace(for: context.user)
        if let namespace {
            problem = await ImageBuilder.removeImageTree(data, namespace: namespace, keep: keep)
        }
        if problem != nil || namespace == nil {
            // What is left (or everything, when the namespace could not be made:
            // newuidmap missing, no range) is tried as the user, who owns the home.
            let problems = TreeRemoval.remove(name, in: context.paths.dataDir, keep: Set(keep))
            problem = problems.isEmpty ? nil : (problem.map { $0 + "\n" } ?? "")
                + problems.prefix(10).map(\.description).joined(separator: "\n")
        }
        if let problem {
            throw SandboxError("\(name): some of \(data) could not be deleted:\n\(problem)",
                               hint: "nothing outside \(data) was touched; look at the paths above")
        }
        Console.out(keepHome ? "destroyed \(name): deleted \(data) except \(data)/home" : "destroyed \(name): deleted \(data)")
    }
}

/// `sandbox _remove-tree [--keep NAME]… PARENT NAME`: TreeRemoval in a process of
/// its own, which `ImageBuilder.removeImageTree` runs as root of the unpacking
/// namespace (a threaded Swift process cannot enter one itself).
struct RemoveTreeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_remove-tree", shouldDisplay: false)

    @Option(help: "An entry of the top directory to keep (the top directory then stays).")
    var keep: [String] = []

    @Argument var parent: String
    @Argument var entry: String

    func run() throws {
        let problems = TreeRemoval.remove(entry, in: parent, keep: Set(keep))
        for p in problems.prefix(20) { Console.say(.error, p.description) }
        if problems.count > 20 { Console.say(.error, "… and \(problems.count - 20) more") }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
