// Finding, loading, merging and validating profiles. CONTRACT for other
// components: `ProfileStore(paths:user:).load(nameOrPath)` returns a fully merged,
// validated Profile or throws ProfileErrors (every problem, each with file, line
// and key).
//
// Lookup: NAME.toml in paths.profileDirs, first directory wins (user >
// /etc/sandbox > PREFIX/share/sandbox > the checkout's Profiles/).
// Includes: `include = ["gui"]` merges the named fragments first, in order,
// recursively; then the including file on top. Tables merge key by key, later
// values win, arrays are replaced — except `[[mount]]`, whose entries accumulate
// (the fragment's mounts first). A fragment included twice in one load is merged
// once. Include names resolve in the including file's directory first, then on
// the search path; a file including its own name gets the next file of that name
// on the search path (so ~/.config/sandbox/profiles/gui.toml can extend the
// shipped gui.toml).

/// One line of `sandbox profile list`.
public struct ProfileSummary: Sendable, Equatable {
    public var name: String
    public var path: String
    public var description: String
    /// Files of the same name further down the search path, hidden by this one.
    public var shadows: [String] = []
    public init(name: String, path: String, description: String) {
        self.name = name
        self.path = path
        self.description = description
    }
}

/// Per-user defaults from ~/.config/sandbox/config.toml.
public struct UserConfig: Sendable, Equatable {
    public var bridge: String = "sandboxbr0"
    /// Overrides Paths.dataDir when set.
    public var dataDir: String? = nil
    public var stopTimeout: Int = 10
    public init() {}
}

/// Profile (and container) names: they become directory and container names.
public enum ProfileName {
    public static let maxLength = 64

    /// Nil when `name` is usable, otherwise why not.
    public static func problem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        if bytes.isEmpty { return "the profile name is empty" }
        if bytes.count > maxLength { return "the profile name is longer than \(maxLength) characters" }
        if !alnum(bytes[0]) || !bytes.allSatisfy({ alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) {
            return "'\(name)' is not a valid profile name: use letters, digits, '.', '_' and '-', starting with a letter or digit"
        }
        return nil
    }

    public static func isValid(_ name: String) -> Bool { problem(name) == nil }
}

public struct ProfileStore: Sendable {
    public var paths: Paths
    public var user: UserIdentity
    /// Where id delegations are read from; tests point these at their own files.
    public var subuidFile = "/etc/subuid"
    public var subgidFile = "/etc/subgid"

    public init(paths: Paths, user: UserIdentity) {
        self.paths = paths
        self.user = user
    }

    // MARK: Loading

    /// Loads NAME from the search path, or a file when the argument contains "/" or ends in ".toml".
    public func load(_ nameOrPath: String) throws(ProfileErrors) -> Profile {
        let file: String
        if Self.isPath(nameOrPath) {
            file = expandHome(nameOrPath)
        } else {
            if let problem = ProfileName.problem(nameOrPath) {
                throw ProfileErrors([ProfileError(.badValue, at: SourceLocation(file: nameOrPath), problem)])
            }
            guard let found = locate(nameOrPath) else {
                throw ProfileErrors([ProfileError(.notFound, at: SourceLocation(file: nameOrPath),
                    "no profile named '\(nameOrPath)'",
                    hint: "looked for \(nameOrPath).toml in " + paths.profileDirs.joined(separator: ", ") + "; `sandbox profile list` shows what exists")])
            }
            file = found
        }
        return try loadFile(file)
    }

    /// Parses profile text that is not (necessarily) on disk, e.g. `profile show` output;
    /// includes resolve against `file`'s directory and the search path.
    public func parse(source: String, file: String, name: String) throws(ProfileErrors) -> Profile {
        var errors: [ProfileError] = []
        var context = LoadContext()
        let tree = resolve(file: file, source: source, chain: [], context: &context, errors: &errors)
        return try finish(tree: tree, name: name, file: file, context: context, errors: errors)
    }

    /// The file NAME resolves to on the search path, or nil.
    public func locate(_ name: String) -> String? {
        candidates(name).first
    }

    private func loadFile(_ file: String) throws(ProfileErrors) -> Profile {
        let base = HostFile.basename(file)
        let name = base.hasSuffix(".toml") ? String(base.dropLast(5)) : base
        var errors: [ProfileError] = []
        if let problem = ProfileName.problem(name) {
            errors.append(ProfileError(.badValue, at: SourceLocation(file: file), problem + " (the file name, without .toml, is the profile name)",
                                       hint: "rename the file"))
        }
        var context = LoadContext()
        let tree = resolve(file: file, source: nil, chain: [], context: &context, errors: &errors)
        return try finish(tree: tree, name: name, file: file, context: context, errors: errors)
    }

    private func finish(tree: TOMLNode?, name: String, file: String, context: LoadContext,
                        errors collected: [ProfileError]) throws(ProfileErrors) -> Profile {
        var errors = collected
        var config = UserConfig()
        do throws(ProfileErrors) {
            config = try userConfig()
        } catch {
            errors += error.errors
        }
        var profile = Profile(name: name, sourcePath: file)
        profile.session.stopTimeout = config.stopTimeout
        profile.include = context.topInclude
        profile.sourceFingerprint = context.topFingerprint
        if let tree {
            var decoder = ProfileDecoder(context: validationContext())
            decoder.decodeProfile(tree, into: &profile)
            errors += decoder.errors
        }
        if !errors.isEmpty { throw ProfileErrors(Self.ordered(errors, fileOrder: context.files)) }
        return profile
    }

    /// Bookkeeping for one load: files already merged (include-once) and the top file's include list.
    private struct LoadContext {
        var merged: Set<String> = []
        var topInclude: [String] = []
        /// The top file's fingerprint, of the bytes parsed (not a second read).
        var topFingerprint = ""
        /// Files in merge order (fragments before the files that include them), for ordering messages.
        var files: [String] = []
    }

    /// Reads `file` (or uses `source`), resolves its includes and returns the
    /// merged tree without the `include` key; nil when the file itself is unusable.
    private func resolve(file: String, source: String?, chain: [(display: String, canonical: String)],
                         context: inout LoadContext, errors: inout [ProfileError]) -> TOMLNode? {
        // Bytes, not text: the parser reports a file that is not UTF-8 instead of repairing it.
        let bytes: [UInt8]
        if let source {
            bytes = Array(source.utf8)
        } else {
            if let problem = ProfileTrust.problem(file, uid: user.uid, gid: user.gid) {
                errors.append(unsafe(file, problem))
                return nil
            }
            switch ProfileFiles.readBytes(file) {
            case .success(let b): bytes = b
            case .failure(let code):
                errors.append(ProfileError(.notFound, at: SourceLocation(file: file), "cannot read profile: \(errnoText(code.rawValue))"))
                return nil
            }
        }
        if chain.isEmpty { context.topFingerprint = ProfileFingerprint.of(bytes) }
        let tree: TOMLNode
        switch TOMLTree.parse(bytes: bytes, file: file) {
        case .success(let t): tree = t
        case .failure(let e):
            errors.append(e)
            return nil
        }
        let canonical = source == nil ? ProfileFiles.canonical(file) : file
        let here = chain + [(file, canonical)]
        var base = TOMLNode(value: .table([]), file: file, line: nil, path: KeyPath())
        if let includeNode = tree["include"] {
            var names: [String] = []
            switch includeNode.value {
            case .array(let items):
                for item in items {
                    guard case .string(let name) = item.value else {
                        errors.append(ProfileError(.wrongType, at: item.location, "include elements must be strings, found \(item.typeName) \(item.shortText)",
                                                   hint: "write include = [\"gui\"]"))
                        continue
                    }
                    names.append(name)
                    guard let found = findInclude(name, from: file, item: item, errors: &errors) else { continue }
                    let foundCanonical = ProfileFiles.canonical(found)
                    if let start = here.firstIndex(where: { $0.canonical == foundCanonical }) {
                        let cycle = here[start...].map(\.display) + [found]
                        errors.append(ProfileError(.includeCycle, at: item.location,
                            "include cycle: " + cycle.joined(separator: " → "),
                            hint: "remove one of these includes"))
                        continue
                    }
                    if context.merged.contains(foundCanonical) { continue }
                    context.merged.insert(foundCanonical)
                    if let sub = resolve(file: found, source: nil, chain: here, context: &context, errors: &errors) {
                        base = TOMLTree.merge(base, sub)
                    }
                }
            case .string(let s):
                errors.append(ProfileError(.wrongType, at: includeNode.location, "include must be an array of names, found a string",
                                           hint: "write include = [\(TOMLEmitter.quoted(s))]"))
            default:
                errors.append(ProfileError(.wrongType, at: includeNode.location, "include must be an array of names, found \(includeNode.typeName)",
                                           hint: "write include = [\"gui\"]"))
            }
            if chain.isEmpty { context.topInclude = names }
        }
        context.files.append(file)
        var own = tree
        if case .table(let entries) = own.value { own.value = .table(entries.filter { $0.key != "include" }) }
        return TOMLTree.merge(base, own)
    }

    /// An include entry: a name (NAME.toml next to the including file, then the
    /// search path) or a path (absolute, ~/…, or relative to the including file).
    private func findInclude(_ name: String, from file: String, item: TOMLNode, errors: inout [ProfileError]) -> String? {
        let dir = HostFile.dirname(file)
        if Self.isPath(name) {
            var path = expandHome(name)
            if !path.hasPrefix("/") { path = dir + "/" + path }
            if ProfileFiles.isRegularFile(path) { return path }
            errors.append(ProfileError(.missingInclude, at: item.location, "included file \(path) does not exist",
                                       hint: "fix the path or remove the include"))
            return nil
        }
        if let problem = ProfileName.problem(name) {
            errors.append(ProfileError(.missingInclude, at: item.location, problem, hint: "include a profile by its name, e.g. \"gui\""))
            return nil
        }
        let own = ProfileFiles.canonical(file)
        var searched = [dir]
        for d in paths.profileDirs where !searched.contains(d) { searched.append(d) }
        for d in searched {
            let candidate = d + "/" + name + ".toml"
            // A file including its own name means the next one on the path.
            if ProfileFiles.isRegularFile(candidate), ProfileFiles.canonical(candidate) != own { return candidate }
        }
        let near = EditDistance.closest(to: name, in: list().map(\.name)).map { "did you mean \(TOMLEmitter.quoted($0))? " } ?? ""
        errors.append(ProfileError(.missingInclude, at: item.location, "included profile '\(name)' not found",
                                   hint: near + "looked for \(name).toml in " + searched.joined(separator: ", ")))
        return nil
    }

    private func candidates(_ name: String) -> [String] {
        paths.profileDirs.map { $0 + "/" + name + ".toml" }.filter(ProfileFiles.isRegularFile)
    }

    private func validationContext() -> ValidationContext {
        ValidationContext(user: user, subuidFile: subuidFile, subgidFile: subgidFile)
    }

    private func expandHome(_ path: String) -> String { HostFile.expandHome(path, home: user.home) }

    /// The file itself or any directory on the way to it (see ProfileTrust for the rule).
    func unsafe(_ file: String, _ problem: TrustProblem) -> ProfileError {
        ProfileError(.unsafeFile, at: SourceLocation(file: file),
                     "refusing to use it: \(ProfileTrust.describe(problem, uid: user.uid)); whoever can change it can run programs as you",
                     hint: ProfileTrust.fix(problem, userName: user.name))
    }

    public static func isPath(_ s: String) -> Bool { s.contains("/") || s.hasSuffix(".toml") || s.hasPrefix("~") }

    /// Errors grouped by file (merge order, then first-seen order), then by line.
    static func ordered(_ errors: [ProfileError], fileOrder files: [String] = []) -> [ProfileError] {
        var fileOrder: [String: Int] = [:]
        for f in files where fileOrder[f] == nil { fileOrder[f] = fileOrder.count }
        for e in errors where fileOrder[e.location.file] == nil { fileOrder[e.location.file] = fileOrder.count }
        var seen = Set<String>()
        return errors.enumerated().sorted {
            let a = $0.element.location, b = $1.element.location
            return (fileOrder[a.file]!, a.line ?? 0, $0.offset) < (fileOrder[b.file]!, b.line ?? 0, $1.offset)
        }.map(\.element).filter { seen.insert($0.description).inserted }
    }

    // MARK: Listing

    /// Every profile found, sorted by name; the first directory wins for equal names.
    public func list() -> [ProfileSummary] {
        var result: [ProfileSummary] = []
        var index: [String: Int] = [:]
        for file in profileFiles() {
            let base = HostFile.basename(file)
            let name = String(base.dropLast(5))
            guard ProfileName.isValid(name) else { continue }
            if let i = index[name] {
                result[i].shadows.append(file)
                continue
            }
            index[name] = result.count
            result.append(ProfileSummary(name: name, path: file, description: Self.description(of: file)))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// The profile names on the search path, sorted, each once: what `list` shows
    /// without reading the files (shell completion calls this on every <TAB>).
    public func names() -> [String] {
        var seen = Set<String>()
        for file in profileFiles() {
            let name = String(HostFile.basename(file).dropLast(5))
            if ProfileName.isValid(name) { seen.insert(name) }
        }
        return seen.sorted()
    }

    /// Every *.toml file in the profile directories, in search order (shadowed ones included).
    public func profileFiles() -> [String] {
        var files: [String] = []
        var seenDirs = Set<String>()
        for dir in paths.profileDirs where seenDirs.insert(ProfileFiles.canonical(dir)).inserted {
            for entry in ProfileFiles.list(dir) ?? [] where entry.hasSuffix(".toml") && entry.count > 5 {
                let path = dir + "/" + entry
                if ProfileFiles.isRegularFile(path) { files.append(path) }
            }
        }
        return files
    }

    private static func description(of file: String) -> String {
        guard case .success(let text) = ProfileFiles.readText(file) else { return "(unreadable)" }
        guard case .success(let tree) = TOMLTree.parse(source: text, file: file) else { return "(invalid TOML: run sandbox profile check)" }
        if case .string(let d)? = tree["description"]?.value { return d }
        return ""
    }

    // MARK: Per-user settings

    /// ~/.config/sandbox/config.toml, or defaults when it does not exist.
    public func userConfig() throws(ProfileErrors) -> UserConfig {
        let file = paths.userConfigFile
        var config = UserConfig()
        let text: String
        switch ProfileFiles.readText(file) {
        case .success(let t): text = t
        case .failure(let code):
            if code == .noSuchFileOrDirectory || code == .notDirectory { return config }
            throw ProfileErrors([ProfileError(.notFound, at: SourceLocation(file: file), "cannot read settings: \(errnoText(code.rawValue))")])
        }
        if let problem = ProfileTrust.problem(file, uid: user.uid, gid: user.gid) {
            throw ProfileErrors([unsafe(file, problem)])
        }
        switch TOMLTree.parse(source: text, file: file) {
        case .failure(let e): throw ProfileErrors([e])
        case .success(let tree):
            var decoder = ProfileDecoder(context: validationContext())
            decoder.decodeUserConfig(tree, into: &config)
            if !decoder.errors.isEmpty { throw ProfileErrors(Self.ordered(decoder.errors)) }
            return config
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
