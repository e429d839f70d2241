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
/// credentials, to prove the display works before anything starts (trusted
/// mode; untrusted mode's proxy speaks the protocol itself, SandboxMediators).
public final class X11Connection {
    private let display: OpaquePointer
    public let name: String

    /// Opens `name` (a DISPLAY value); the error says what to check. A server
    /// that accepts the connection but never answers (a hung or stopped X) is
    /// given `timeout` seconds: Xlib itself would wait forever.
    public init(_ name: String, timeout: Double = 5) throws(SandboxError) {
        CX11_install_error_handler()
        let attempt = OpenAttempt(name)
        guard attempt.finished(within: timeout) else {
            throw SandboxError(
                "cannot open display \(name): the X server accepted the connection but did not answer within \(Int(timeout)) s — is X hung or stopped?",
                hint: "set x11.mode = \"none\" to run without X")
        }
        guard let d = attempt.take() else {
            throw SandboxError(
                "cannot open display \(name): the X server refused or did not answer — is X running? is DISPLAY right?",
                hint: "set x11.mode = \"none\" to run without X")
        }
        display = d
        self.name = name
    }

    /// XOpenDisplay on a thread of its own, so the caller can stop waiting. If
    /// the caller gives up, the thread closes the display should it ever open.
    private final class OpenAttempt: @unchecked Sendable {
        private let name: String
        // Heap-allocated: a pthread mutex must not move.
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private var result: OpaquePointer?
        private var done = false
        private var abandoned = false
        private var pipe: [Int32] = [-1, -1]

        init(_ name: String) {
            self.name = name
            pthread_mutex_init(lock, nil)
            var fds: [Int32] = [-1, -1]
            guard Glibc.pipe(&fds) == 0 else { finish(XOpenDisplay(name)); return }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            pipe = fds
            var thread = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            let rc = pthread_create(&thread, nil, { context in
                let attempt = Unmanaged<OpenAttempt>.fromOpaque(context!).takeRetainedValue()
                attempt.finish(XOpenDisplay(attempt.name))
                return nil
            }, context)
            if rc != 0 {
                Unmanaged<OpenAttempt>.fromOpaque(context).release()
                finish(XOpenDisplay(name))
            } else {
                pthread_detach(thread)
            }
        }

        private func finish(_ display: OpaquePointer?) {
            pthread_mutex_lock(lock)
            if abandoned {
                if let display { XCloseDisplay(display) }
            } else {
                result = display
            }
            done = true
            pthread_mutex_unlock(lock)
            if pipe[1] >= 0 { var byte: UInt8 = 1; _ = Glibc.write(pipe[1], &byte, 1) }
        }

        /// Waits up to `seconds`; false (and the attempt abandoned) on timeout.
        func finished(within seconds: Double) -> Bool {
            if pipe[0] >= 0 {
                var pfd = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
                let deadlineMs = Int32(seconds * 1000)
                while poll(&pfd, 1, deadlineMs) < 0 && errno == EINTR {}
            }
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            if !done { abandoned = true }
            return done
        }

        func take() -> OpaquePointer? {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            return result
        }

        deinit {
            if pipe[0] >= 0 { close(pipe[0]) }
            if pipe[1] >= 0 { close(pipe[1]) }
            pthread_mutex_destroy(lock)
            lock.deallocate()
        }
    }

    deinit { XCloseDisplay(display) }
}
