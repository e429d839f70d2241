#if canImport(Glibc)
import Glibc
#endif
import SandboxCore

/// The text of a profile's launcher, `sandbox-NAME.desktop`, per the Desktop Entry
/// Specification 1.4 (the newest that Debian 12's desktop-file-validate 0.26 knows).
/// Pure: the same profile and binary path give the same text.
public struct DesktopEntry: Sendable, Equatable {
    /// The key that marks files `sandbox desktop` wrote; `remove` deletes nothing else.
    public static let markerKey = "X-Sandbox-Profile"

    public var profile: Profile
    /// Absolute path of the sandbox binary (Exec and TryExec).
    public var sandboxPath: String

    public init(profile: Profile, sandboxPath: String) {
        self.profile = profile
        self.sandboxPath = sandboxPath
    }

    public static func fileName(for profileName: String) -> String { "sandbox-\(profileName).desktop" }
    public var fileName: String { Self.fileName(for: profile.name) }

    /// The profile's `desktop.name` exactly as written, or "NAME (sandboxed)" when it
    /// has none. Never a suffix on a written name: the shipped profiles already say
    /// "Firefox ESR (sandboxed)", and appending gave "… (sandboxed) (sandboxed)"
    /// (issue 10 #4). The description is the Comment, not a fallback name.
    public var displayName: String {
        if let name = profile.desktop.name, !name.isEmpty { return name }
        return profile.name + " (sandboxed)"
    }

    /// `%U` (a list of URLs, which `run NAME --` appends to the command) only when the
    /// profile says which files it opens (desktop.mime_types); otherwise no field code,
    /// so the menu never passes arguments the app does not expect.
    public var acceptsFiles: Bool { !profile.desktop.mimeTypes.isEmpty }

    /// The Exec value before string escaping: each argument quoted per the spec's rules.
    public var execLine: String {
        var args = [sandboxPath, "run", profile.name].map(Self.quoteExecArgument)
        if acceptsFiles { args += ["--", "%U"] }
        return args.joined(separator: " ")
    }

    public var text: String {
        var lines = ["[Desktop Entry]", "Type=Application", "Version=1.4"]
        func add(_ key: String, _ value: String) { lines.append("\(key)=\(Self.escapeString(value))") }
        func addList(_ key: String, _ values: [String]) {
            guard !values.isEmpty else { return }
            lines.append(key + "=" + values.map { Self.escapeString($0).replacing(";", with: "\\;") }.joined(separator: ";") + ";")
        }
        add("Name", displayName)
        let comment = profile.desktop.comment ?? (profile.description.isEmpty ? nil : profile.description)
        if let comment { add("Comment", comment) }
        add("Exec", execLine)
        add("TryExec", sandboxPath)
        if let icon = profile.desktop.icon, !icon.isEmpty { add("Icon", icon) }
        add("Terminal", "false")
        addList("Categories", profile.desktop.categories)
        addList("MimeType", profile.desktop.mimeTypes)
        add(Self.markerKey, profile.name)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Exec argument quoting: an argument with a reserved character is put in double
    /// quotes, and inside them `"`, `` ` ``, `$` and `\` get a backslash. A literal `%`
    /// is always `%%` (otherwise it would start a field code).
    public static func quoteExecArgument(_ arg: String) -> String {
        if arg == "%U" || arg == "%u" || arg == "%F" || arg == "%f" { return arg }
        let reserved: Set<Character> = [" ", "\t", "\n", "\"", "'", "\\", ">", "<", "~", "|", "&", ";", "$", "*", "?", "#", "(", ")", "`"]
        let percentSafe = arg.replacing("%", with: "%%")
        guard arg.isEmpty || arg.contains(where: { reserved.contains($0) }) else { return percentSafe }
        var out = "\""
        for ch in percentSafe {
            if ch == "\"" || ch == "`" || ch == "$" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "\""
    }

    /// The general escaping of string values: `\s` is not needed inside a value, but
    /// backslash, newline, tab and carriage return are escaped.
    public static func escapeString(_ value: String) -> String {
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out.append(ch)
            }
        }
        return out
    }

    /// The profile name a launcher file was written for, read from its marker key; nil when it is not ours.
    public static func markedProfile(inText text: String) -> String? {
        var inMainGroup = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("[") { inMainGroup = line == "[Desktop Entry]"; continue }
            if inMainGroup, line.hasPrefix(markerKey + "=") {
                return String(line.dropFirst(markerKey.count + 1))
            }
        }
        return nil
    }
}

/// Installing and removing launcher files in XDG_DATA_HOME/applications.
public struct DesktopLaunchers: Sendable {
    /// The applications directory, e.g. ~/.local/share/applications.
    public var directory: String

    public init(directory: String) { self.directory = directory }

    /// $XDG_DATA_HOME/applications (an absolute XDG_DATA_HOME only), else ~/.local/share/applications.
    public static func userDirectory(environment env: [String: String], home: String) -> String {
        if let d = env["XDG_DATA_HOME"], d.hasPrefix("/") { return d + "/applications" }
        return home + "/.local/share/applications"
    }

    public func path(for profileName: String) -> String { directory + "/" + DesktopEntry.fileName(for: profileName) }

    /// Profile names become file names: letters, digits, `.`, `_`, `-`, not starting with `.`.
    public static func checkName(_ name: String) throws(SandboxError) {
        let ok = !name.isEmpty && !name.hasPrefix(".") && name.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "." || $0 == "_" || $0 == "-"
        }
        if !ok {
            throw SandboxError("'\(name)' is not a profile name", hint: "profile names use letters, digits, '.', '_' and '-' and do not start with '.'")
        }
    }

    /// Writes the entry atomically (temp file + rename). Refuses to replace a file with
    /// the same name that `sandbox desktop` did not write for this profile.
    public func install(_ entry: DesktopEntry) throws(SandboxError) -> String {
        try Self.checkName(entry.profile.name)
        try HostFile.makeDirectories(directory, mode: 0o755)
        let target = path(for: entry.profile.name)
        if let existing = HostFile.read(target), DesktopEntry.markedProfile(inText: existing) != entry.profile.name {
            throw SandboxError("\(target) exists and was not written by `sandbox desktop install \(entry.profile.name)`; leaving it alone",
                               hint: "move it away, then run the command again")
        }
        try HostFile.writeAtomically(entry.text, to: target, mode: 0o644)
        return target
    }

    /// Deletes the launcher only when its marker names this profile.
    public func remove(_ profileName: String) throws(SandboxError) -> String {
        try Self.checkName(profileName)
        let target = path(for: profileName)
        guard let text = HostFile.read(target) else {
            throw SandboxError("no launcher for \(profileName): \(target) does not exist",
                               hint: "`sandbox desktop install \(profileName)` writes one")
        }
        guard DesktopEntry.markedProfile(inText: text) == profileName else {
            throw SandboxError("\(target) was not written by `sandbox desktop install \(profileName)` (no \(DesktopEntry.markerKey)=\(profileName)); leaving it alone")
        }
        guard unlink(target) == 0 else {
            throw SandboxError.system("cannot remove \(target)", errno: errno)
        }
        return target
    }
}
