// Which of an app's arguments are host files to hand over (a launcher's %U/%F
// give file:// URLs or absolute paths), and what each becomes inside. The rules
// are pure; `apply` asks the plan what the container sees and makes the portal
// call. An argument is only ever replaced by a path the launcher builds from a
// document id and a file name (absolute, so a name like "-rf" can never turn
// into an option), or left exactly as it was.
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

public enum FileHandOver {
    /// A host file named by an argument.
    public struct Reference: Equatable, Sendable {
        /// The absolute host path.
        public var path: String
        /// It was a file:// URL, so it is rewritten to one.
        public var isURL: Bool
    }

    /// The file an argument names, if it names one: a file:// URL (no host, or
    /// localhost), an absolute path, or a relative path (resolved against `cwd`)
    /// that `exists`; never an argument starting with "-". `exists` is asked
    /// only for relative paths: an absolute one is handed over or reported.
    public static func reference(_ argument: String, cwd: String, exists: (String) -> Bool) -> Reference? {
        if argument.hasPrefix("file://") {
            var rest = Substring(argument.dropFirst(7))
            if rest.hasPrefix("localhost/") { rest = rest.dropFirst(9) }
            guard rest.hasPrefix("/"), let path = PercentEscapes.decode(rest) else { return nil }
            return Reference(path: normalized(path), isURL: true)
        }
        if argument.hasPrefix("/") { return Reference(path: normalized(argument), isURL: false) }
        guard !argument.isEmpty, !argument.hasPrefix("-"), !argument.contains("://"), cwd.hasPrefix("/") else { return nil }
        let path = normalized(cwd + "/" + argument)
        return exists(path) ? Reference(path: path, isURL: false) : nil
    }

    /// "/a/./b//c/../d" → "/a/b/d", lexically (the portal gets an opened file,
    /// so this only decides visibility and never what is exported).
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for p in path.split(separator: "/") where p != "." {
            if p == ".." { _ = parts.popLast() } else { parts.append(p) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The argument the app gets for a handed-over file: the document's path in
    /// the container, as a path or (for a URL) a file:// URL.
    public static func rewritten(_ ref: Reference, documentID: String, name: String, documentsInside: String) -> String {
        let path = documentsInside + "/" + documentID + "/" + name
        return ref.isURL ? "file://" + percentEncoded(path) : path
    }

    /// A path as a URL path: everything but unreserved characters and "/" as %XX.
    static func percentEncoded(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80 && (c.isLetter || c.isNumber || "-._~/".contains(c)) {
                out.append(c)
            } else {
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return out
    }
}


extension FileHandOver {
    public struct Outcome: Sendable, Equatable {
        public var arguments: [String]
        /// What could not be handed over, for the user.
        public var notices: [String] = []
        /// How many files went through the document portal.
        public var handedOver = 0
    }

    /// The app's arguments with each host file it names made reachable: a file
    /// the container sees becomes its path there; any other goes through the
    /// document portal (when the plan has the document store and [files]
    /// allows it) and becomes its document path. The rest are left as written.
    public static func apply(_ arguments: [String], plan: LaunchPlan, cwd: String, busAddress: String?) -> Outcome {
        var out = Outcome(arguments: arguments)
        var pending: [(index: Int, ref: Reference, opened: DocumentPortal.Opened)] = []
        func exists(_ p: String) -> Bool { var st = stat(); return lstat(p, &st) == 0 }
        let mode = plan.dbus?.documents == nil ? FileHandOverMode.none : plan.dbus!.handOver
        for (i, argument) in arguments.enumerated() {
            guard let ref = reference(argument, cwd: cwd, exists: exists) else { continue }
            if let inside = plan.containerPath(forHost: ref.path) {
                out.arguments[i] = ref.isURL ? "file://" + percentEncoded(inside) : inside
                continue
            }
            guard exists(ref.path) else { continue }   // not a file here: the app may know what it means
            guard mode != .none, busAddress != nil else {
                let why = plan.dbus?.documents == nil
                    ? "the profile gets no document store ([dbus] must allow org.freedesktop.portal.*, and xdg-document-portal must run)"
                    : mode == .none ? "[files] hand_over = \"none\"" : "DBUS_SESSION_BUS_ADDRESS is not set, so the document portal cannot be reached"
                out.notices.append("\(ref.path) is outside what \(plan.name) sees, and \(why); the app gets the argument as written")
                continue
            }
            switch DocumentPortal.open(ref.path) {
            case .success(let opened): pending.append((i, ref, opened))
            case .failure(let e): out.notices.append("not handing \(ref.path) to \(plan.name): \(e)")
            }
        }
        guard !pending.isEmpty, let busAddress, let appID = plan.dbus?.appID else { return out }
        defer { for p in pending { close(p.opened.fd) } }
        let runtime = plan.environment.first { $0.hasPrefix("XDG_RUNTIME_DIR=") }.map { String($0.dropFirst(16)) } ?? "/run/user/\(plan.uid)"
        do {
            let client = try DBusClient(address: busAddress)
            let ids = try DocumentPortal.add(pending.map(\.opened), appID: appID, writable: mode == .readWrite, client: client)
            for (p, id) in zip(pending, ids) {
                out.arguments[p.index] = rewritten(p.ref, documentID: id, name: p.opened.name, documentsInside: runtime + "/doc")
            }
            out.handedOver = pending.count
        } catch {
            out.notices.append("cannot hand \(pending.map(\.ref.path).joined(separator: ", ")) to \(plan.name) through the document portal: \(error)")
        }
        return out
    }
}
