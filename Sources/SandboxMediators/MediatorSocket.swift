// Unix stream sockets for the mediators: always non-blocking and close-on-exec
// (the supervisor's loop must never block, and nothing may leak into the
// container's init). Waiting with a deadline is poll(2) on the same descriptor.
import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

package enum MediatorSocket {
    static func stream() -> Int32 {
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// A non-blocking connection to `path`; on failure the errno. A unix
    /// socket connects at once or fails (EAGAIN: the server's backlog is full).
    package static func connect(_ path: String) -> Result<Int32, Errno> {
        let fd = stream()
        guard fd >= 0 else { return .failure(Errno(errno)) }
        let rc = withUnixSocketAddress(path) { addr, len in retryingEINTR { Glibc.connect(fd, addr, len) } }
            ?? { errno = ENAMETOOLONG; return -1 }()
        guard rc == 0 else {
            let e = errno
            close(fd)
            return .failure(Errno(e))
        }
        return .success(fd)
    }

    /// A listening socket at `path` (an old one there is replaced), mode `mode`.
    static func listen(_ path: String, mode: mode_t) throws(SandboxError) -> Int32 {
        let fd = stream()
        guard fd >= 0 else { throw SandboxError.system("socket", errno: errno) }
        unlink(path)
        let rc = withUnixSocketAddress(path) { bind(fd, $0, $1) }
        guard let rc else {
            close(fd)
            throw SandboxError("the socket path \(path) is longer than a unix socket allows (107 bytes)",
                                hint: "use a shorter XDG_RUNTIME_DIR or profile name")
        }
        guard rc == 0, chmod(path, mode) == 0, Glibc.listen(fd, 64) == 0 else {
            let e = errno
            close(fd)
            throw SandboxError.system("cannot listen on \(path)", errno: e)
        }
        return fd
    }

    /// One sendmsg of `bytes` with SCM_CREDENTIALS (our own pid, uid and gid,
    /// which needs no privilege): PulseAudio authenticates a local client by
    /// the credentials that come with its AUTH, as libpulse sends them.
    /// The byte count sent, or -1 with errno.
    static func sendWithCredentials(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32) -> Int {
        // struct cmsghdr (16 bytes on LP64) + struct ucred (12), padded to 8.
        var control = [UInt64](repeating: 0, count: 4)
        control.withUnsafeMutableBytes { c in
            c.storeBytes(of: UInt64(16 + 12), toByteOffset: 0, as: UInt64.self)
            c.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
            c.storeBytes(of: scmCredentials, toByteOffset: 12, as: Int32.self)
            c.storeBytes(of: getpid(), toByteOffset: 16, as: Int32.self)
            c.storeBytes(of: getuid(), toByteOffset: 20, as: UInt32.self)
            c.storeBytes(of: getgid(), toByteOffset: 24, as: UInt32.self)
        }
        return control.withUnsafeMutableBytes { ctl in
            var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            return withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr()
                msg.msg_iov = iovp
                msg.msg_iovlen = 1
                msg.msg_control = ctl.baseAddress
                msg.msg_controllen = 32
                return sendmsg(fd, &msg, flags)
            }
        }
    }

    /// Waits until `fd` has `events`, up to `deadline`; false on timeout.
    package static func wait(_ fd: Int32, _ events: Int32, until deadline: Deadline) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
        return retryingEINTR { poll(&pfd, 1, deadline.remainingMilliseconds) } > 0
    }
}

/// An errno value as a type, with its text.
package struct Errno: Error, Equatable {
    var code: Int32
    init(_ code: Int32) { self.code = code }
    package var text: String { errnoText(code) }
}

/// A point in time on the monotonic clock.
package struct Deadline {
    let nanoseconds: Int64

    package init(seconds: Double) {
        nanoseconds = Deadline.now() + Int64(seconds * 1_000_000_000)
    }

    static func now() -> Int64 { monotonicNanoseconds() }

    var remainingMilliseconds: Int32 {
        let left = (nanoseconds - Deadline.now()) / 1_000_000
        return Int32(max(0, min(left, Int64(Int32.max))))
    }
    package var expired: Bool { Deadline.now() >= nanoseconds }
}
