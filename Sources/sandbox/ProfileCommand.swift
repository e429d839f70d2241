import ArgumentParser
import SandboxCore

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "List, show and check profiles.",
        discussion: "Profiles are described in sandbox-profile(5).",
        subcommands: [ListProfiles.self, Show.self, Check.self]
    )

    /// The store for the invoking user, with the XDG/installation search path.
    static func store() -> ProfileStore {
        let user = UserIdentity.current()
        return ProfileStore(paths: Paths.current(user: user), user: user)
    }

    /// Prints every problem, one per line, compiler style.
    static func report(_ errors: ProfileErrors) {
        for e in errors.errors { Console.say(.error, e.description) }
    }

    struct ListProfiles: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List profiles: name, source file, description.",
            discussion: "The first directory of the search path wins; hidden files of the same name are shown as shadowed.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            _ = try global.bootstrap()
            let store = ProfileCommand.store()
            let profiles = store.list()
            if profiles.isEmpty {
                Console.say(.notice, "no profiles found in " + store.paths.profileDirs.joined(separator: ", "))
                return
            }
            let nameWidth = max(4, profiles.map(\.name.count).max() ?? 0)
            let pathWidth = max(6, profiles.map(\.path.count).max() ?? 0)
            func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
            var lines = [pad("NAME", nameWidth) + "  " + pad("SOURCE", pathWidth) + "  DESCRIPTION"]
            for p in profiles {
                lines.append(pad(p.name, nameWidth) + "  " + pad(p.path, pathWidth) + "  " + p.description)
                for hidden in p.shadows {
                    lines.append(pad("", nameWidth) + "  (shadows " + hidden + ")")
                }
            }
            Console.out(lines.joined(separator: "\n"))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the fully merged profile as TOML.",
            discussion: "Includes and defaults are applied; the output is a standalone profile that parses to the same settings.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A profile name or a path to a .toml file.", completion: NameCompletion.profiles) var profile: String
        func run() throws {
            _ = try global.bootstrap()
            do throws(ProfileErrors) {
                let p = try ProfileCommand.store().load(profile)
                Console.out(TOMLEmitter.emit(p))
            } catch {
                ProfileCommand.report(error)
                throw ExitCode(1)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate profiles; exits 0 only when all are valid.",
            discussion: """
                Prints one line per problem (FILE:LINE: key 'KEY': what is wrong (how to fix it)) and \
                exits 1 when there is any. Without arguments, checks every profile file on the search \
                path (shadowed ones too) and ~/.config/sandbox/config.toml.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Profile names or paths (default: every profile found).", completion: NameCompletion.profiles) var profiles: [String] = []
        func run() throws {
            _ = try global.bootstrap()
            let store = ProfileCommand.store()
            var targets = profiles
            var printed = Set<String>()
            var files = Set<String>()
            // config.toml problems come with every profile load: print each problem once.
            func report(_ errors: ProfileErrors) {
                for e in errors.errors where printed.insert(e.description).inserted {
                    files.insert(e.location.file)
                    Console.say(.error, e.description)
                }
            }
            if targets.isEmpty {
                targets = store.profileFiles()
                do throws(ProfileErrors) {
                    _ = try store.userConfig()
                } catch {
                    report(error)
                }
                if targets.isEmpty {
                    Console.say(.notice, "no profiles found in " + store.paths.profileDirs.joined(separator: ", "))
                }
            }
            for target in targets {
                do throws(ProfileErrors) {
                    let p = try store.load(target)
                    Console.out("ok: \(p.name) (\(p.sourcePath))")
                } catch {
                    report(error)
                }
            }
            let problems = printed.count
            if problems > 0 {
                Console.say(.error, "\(problems) problem\(problems == 1 ? "" : "s") in \(files.count) file\(files.count == 1 ? "" : "s")")
                throw ExitCode(1)
            }
        }
    }
}
