import CX11
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing Xauthority files through libXau, the same code every X
/// client uses to read them back.
public enum XauthorityFile {
    /// All entries of `path`; a missing file is an empty list (X servers run without one).
    public static func read(_ path: String) throws(SandboxError) -> [XauthEntry] {
        guard let file = fopen(path, "re") else {
            if errno == ENOENT { return [] }
            throw SandboxError("cannot read the X authority file \(path): \(String(cString: strerror(errno)))",
                               hint: "check XAUTHORITY points to a readable file")
        }
        defer { fclose(file) }
        var entries: [XauthEntry] = []
        while let auth = XauReadAuth(file) {
            defer { XauDisposeAuth(auth) }
            let a = auth.pointee
            entries.append(XauthEntry(
                family: a.family,
                address: bytes(a.address, Int(a.address_length)),
                number: String(decoding: bytes(a.number, Int(a.number_length)), as: UTF8.self),
                name: String(decoding: bytes(a.name, Int(a.name_length)), as: UTF8.self),
                data: bytes(a.data, Int(a.data_length))))
        }
        return entries
    }

    /// Writes `entries` to `path` (mode 0600) through a temporary file and rename,
    /// so a reader never sees half a cookie.
    public static func write(_ entries: [XauthEntry], to path: String) throws(SandboxError) {
        let temp = path + ".tmp"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0, let file = fdopen(fd, "w") else {
            let e = errno
            if fd >= 0 { close(fd) }
            throw SandboxError("cannot write \(temp): \(String(cString: strerror(e)))")
        }
        var ok = true
        for entry in entries {
            ok = ok && withXauth(entry) { XauWriteAuth(file, $0) == 1 }
        }
        ok = (fflush(file) == 0) && ok
        ok = (fsync(fileno(file)) == 0) && ok
        ok = (fclose(file) == 0) && ok
        guard ok, rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw SandboxError("cannot write the container's X authority file \(path): \(String(cString: strerror(e)))")
        }
    }

    static func bytes(_ p: UnsafeMutablePointer<CChar>?, _ n: Int) -> [UInt8] {
        guard let p, n > 0 else { return [] }
        return UnsafeBufferPointer(start: p, count: n).map { UInt8(bitPattern: $0) }
    }

    /// Lends `entry` to libXau as a C Xauth whose pointers live for the call.
    static func withXauth<T>(_ entry: XauthEntry, _ body: (UnsafeMutablePointer<Xauth>) -> T) -> T {
        var address = entry.address.map { CChar(bitPattern: $0) }
        var number = Array(entry.number.utf8).map { CChar(bitPattern: $0) }
        var name = Array(entry.name.utf8).map { CChar(bitPattern: $0) }
        var data = entry.data.map { CChar(bitPattern: $0) }
        // Empty arrays still need a valid pointer for libXau's fwrite of 0 bytes.
        address.append(0); number.append(0); name.append(0); data.append(0)
        return address.withUnsafeMutableBufferPointer { ad in
            number.withUnsafeMutableBufferPointer { nu in
                name.withUnsafeMutableBufferPointer { na in
                    data.withUnsafeMutableBufferPointer { da in
                        var auth = Xauth(
                            family: entry.family,
                            address_length: UInt16(entry.address.count), address: ad.baseAddress,
                            number_length: UInt16(entry.number.utf8.count), number: nu.baseAddress,
                            name_length: UInt16(entry.name.utf8.count), name: na.baseAddress,
                            data_length: UInt16(entry.data.count), data: da.baseAddress)
                        return body(&auth)
                    }
                }
            }
        }
    }
}

/// A short-lived connection to the user's X server, opened with the user's own
/// credentials: to prove the display works before anything starts, and to mint
/// or revoke untrusted cookies (X SECURITY extension, what `ssh -X` does).
public final class X11Connection {
    private let display: OpaquePointer
    public let name: String

    /// Opens `name` (a DISPLAY value); the error says what to check.
    public init(_ name: String) throws(SandboxError) {
        CX11_install_error_handler()
        guard let d = XOpenDisplay(name) else {
            throw SandboxError(
                "cannot open display \(name): the X server refused or did not answer — is X running? is DISPLAY right?",
                hint: "set x11.mode = \"none\" to run without X")
        }
        display = d
        self.name = name
    }

    deinit { XCloseDisplay(display) }

    /// Asks the server for an untrusted MIT-MAGIC-COOKIE-1: clients using it are
    /// "untrusted" in the SECURITY extension's sense and cannot read or grab
    /// other clients' windows, properties or input. Timeout 0: the cookie lives
    /// until revoked (at container stop), so an app that reconnects after an idle
    /// spell still works.
    public func mintUntrustedCookie() throws(SandboxError) -> (id: UInt, cookie: [UInt8]) {
        var major: Int32 = 0, minor: Int32 = 0
        guard XSecurityQueryExtension(display, &major, &minor) != 0 else {
            throw SandboxError("the X server on \(name) has no SECURITY extension, so it cannot issue an untrusted cookie",
                               hint: "use x11.mode = \"trusted\" (the app can then read other windows) or \"none\"")
        }
        guard let request = XSecurityAllocXauth() else { throw SandboxError("out of memory minting an X cookie") }
        defer { XSecurityFreeXauth(request) }
        let protocolName = strdup("MIT-MAGIC-COOKIE-1")!
        defer { free(protocolName) }
        request.pointee.name = protocolName
        request.pointee.name_length = UInt16(strlen(protocolName))
        var attributes = XSecurityAuthorizationAttributes()
        attributes.timeout = 0
        attributes.trust_level = UInt32(XSecurityClientUntrusted)
        var id: XSecurityAuthorization = 0
        _ = CX11_take_last_error()
        guard let granted = XSecurityGenerateAuthorization(
            display, request, UInt(XSecurityTimeout | XSecurityTrustLevel), &attributes, &id) else {
            throw SandboxError("the X server on \(name) refused to issue an untrusted cookie (X error \(CX11_take_last_error()))",
                               hint: "use x11.mode = \"trusted\" or \"none\"")
        }
        defer { XSecurityFreeXauth(granted) }
        let cookie = XauthorityFile.bytes(granted.pointee.data, Int(granted.pointee.data_length))
        return (UInt(id), cookie)
    }

    /// Revokes a cookie minted earlier; false when the server no longer knows it.
    @discardableResult
    public func revoke(_ id: UInt) -> Bool {
        _ = CX11_take_last_error()
        let status = XSecurityRevokeAuthorization(display, XSecurityAuthorization(id))
        XSync(display, 0)
        return status != 0 && CX11_take_last_error() == 0
    }
}
