// The one errno idiom: a call that fails with EINTR is made again here and
// nowhere else, and errno becomes text in one function.
#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` again while it fails with EINTR. Its last result: on failure
/// negative, with errno still set for the caller to read.
@inlinable
package func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let r = body()
        if r >= 0 || errno != EINTR { return r }
    }
}

/// `retryingEINTR` that throws the call's name and errno on failure.
@discardableResult
package func retrying<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SandboxError) -> T {
    let r = retryingEINTR(body)
    if r < 0 { throw SandboxError.system(call, errno: errno) }
    return r
}

/// strerror, lower-cased like the rest of our messages.
public func errnoText(_ e: Int32) -> String {
    var s = String(cString: strerror(e))
    if let f = s.first { s = f.lowercased() + s.dropFirst() }
    return s
}

/// Replaces this process's program with `path` (execve: the same pid), handing it
/// `fds` (their close-on-exec flag cleared) and `environment` (set for it). The
/// supervisor and the launcher become their small waiting programs this way.
/// Returns only when execve failed: errno, with the flags and the environment
/// as they were.
package func becomeProgram(_ path: String, argv: [String], keeping fds: [Int32],
                           environment: [(String, String)]) -> Int32 {
    for fd in fds { _ = fcntl(fd, F_SETFD, 0) }
    for (key, value) in environment { setenv(key, value, 1) }
    let strings = CStrings()
    defer { strings.free() }
    execv(path, strings.array(argv))
    let failure = errno
    for (key, _) in environment { unsetenv(key) }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return failure
}

/// CLOCK_MONOTONIC in nanoseconds: the one clock behind Stopwatch, the mediators'
/// deadlines and the poll loop's hand-over deadline.
public func monotonicNanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}
