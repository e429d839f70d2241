import ArgumentParser
import SandboxCore
import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

// Shell completion of names. swift-argument-parser writes the bash, zsh and fish
// scripts (`sandbox --generate-completion-script SHELL`); on <TAB> the shell runs
// `sandbox ---completion …`, which calls these closures. A normal command never
// calls them: the only cost on the launch path is the closure's existence.

enum NameCompletion {
    /// Profiles on the search path (`sandbox profile list`'s names) that start with
    /// the word being completed.
    static let profiles = CompletionKind.custom { _, _, prefix in
        matching(prefix, profileNames())
    }

    /// Profiles and running containers (a container outlives a profile file that
    /// was renamed or deleted while it ran): for stop, status and exec.
    static let containers = CompletionKind.custom { _, _, prefix in
        let running = CommandContext.current().directory.names()
        return matching(prefix, Array(Set(profileNames() + running)).sorted())
    }

    /// Containers that have data (~/.local/share/sandbox/NAME): what `destroy` deletes.
    static let dataDirectories = CompletionKind.custom { _, _, prefix in
        matching(prefix, subdirectories(of: CommandContext.current().paths.dataDir).filter(ProfileName.isValid))
    }

    static func profileNames() -> [String] {
        let context = CommandContext.current()
        return ProfileStore(paths: context.paths, user: context.user).names()
    }

    static func subdirectories(of dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n != "." && n != ".." && e.pointee.d_type == UInt8(DT_DIR) { names.append(n) }
        }
        return names.sorted()
    }

    static func matching(_ prefix: String, _ names: [String]) -> [String] {
        prefix.isEmpty ? names : names.filter { $0.hasPrefix(prefix) }
    }
}
