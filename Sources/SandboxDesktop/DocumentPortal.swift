// Hands host files to a sandboxed app through xdg-document-portal, as flatpak's
// --file-forwarding does: the launcher (a host program, which the portal trusts
// to name the app) opens each file itself and passes the descriptor to
// AddFull, which grants only that file, to only that app id, with only the
// permissions asked for. The app sees it at $XDG_RUNTIME_DIR/doc/DOC_ID/NAME
// (the portal's by-app view, bound into the container), so nothing else of the
// file's directory becomes visible, and a name the app planted cannot redirect
// the grant: the descriptor, not the path, is what is exported.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

public enum DocumentPortal {
    public static let busName = "org.freedesktop.portal.Documents"
    public static let objectPath = "/org/freedesktop/portal/documents"

    /// AddFull's flags (xdg-document-portal's XdpDocumentAddFullFlags).
    static let reuseExisting: UInt32 = 1 << 0
    static let persistent: UInt32 = 1 << 1
    static let asNeededByApp: UInt32 = 1 << 2
    static let exportDirectory: UInt32 = 1 << 3

    /// Linux's O_PATH (Glibc's module map leaves it out: it needs _GNU_SOURCE).
    static let oPath: Int32 = 0o10000000

    /// One opened file to hand over: its descriptor (O_PATH) and the name the portal will give it.
    public struct Opened {
        public var fd: Int32
        public var name: String
        public var isDirectory: Bool
    }

    /// Opens `path` for a hand-over: O_PATH (nothing is read by us), following a
    /// link the user passed; only regular files and directories.
    public static func open(_ path: String) -> Result<Opened, SandboxError> {
        let fd = Glibc.open(path, oPath | O_CLOEXEC)
        guard fd >= 0 else { return .failure(SandboxError.system("cannot open \(path)", errno: errno)) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG || st.st_mode & S_IFMT == S_IFDIR else {
            close(fd)
            return .failure(SandboxError("\(path) is not a regular file or a directory"))
        }
        // The portal names the document after the file the descriptor is (a link's target).
        var link = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &link, link.count - 1)
        let real = n > 0 ? String(decoding: link[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : path
        let name = real.split(separator: "/").last.map(String.init) ?? "/"
        return .success(Opened(fd: fd, name: name, isDirectory: st.st_mode & S_IFMT == S_IFDIR))
    }

    /// Grants `files` to `appID`; the document ids, in order.
    public static func add(_ files: [Opened], appID: String, writable: Bool, client: DBusClient) throws(SandboxError) -> [String] {
        var ids = [String](repeating: "", count: files.count)
        var permissions: [DBusValue] = [.string("read")]
        if writable { permissions.append(.string("write")) }
        for batch in batches(files) {
            let flags = reuseExisting | asNeededByApp | (files[batch[0]].isDirectory ? exportDirectory : 0)
            let reply = try client.call(
                destination: busName, path: objectPath, interface: busName, member: "AddFull", signature: "ahusas",
                body: [.array(elementSignature: "h", batch.indices.map { .unixFD(UInt32($0)) }), .uint32(flags),
                       .string(appID), .array(elementSignature: "s", permissions)],
                fds: batch.map { files[$0].fd })
            guard case .array(_, let items)? = reply.first, items.count == batch.count else {
                throw SandboxError("the document portal's AddFull reply has no document id for each file")
            }
            for (i, item) in zip(batch, items) {
                guard let id = item.string, !id.isEmpty, !id.contains("/"), id != ".", id != ".." else {
                    throw SandboxError("the document portal returned an unusable document id")
                }
                ids[i] = id
            }
        }
        return ids
    }

    /// The AddFull calls for `files`, as indices into it: the plain files in
    /// one, each directory alone (the export-directory flag applies to a whole call).
    static func batches(_ files: [Opened]) -> [[Int]] {
        let plain = files.indices.filter { !files[$0].isDirectory }
        let directories = files.indices.filter { files[$0].isDirectory }
        return (plain.isEmpty ? [] : [plain]) + directories.map { [$0] }
    }
}
