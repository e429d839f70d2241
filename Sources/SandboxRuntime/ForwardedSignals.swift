// Signals that reach the launcher while a session runs are meant for the app:
// the handlers only write the number to a self-pipe (async-signal-safe) and the
// session relay forwards it over the control socket.
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// Signals the launcher forwards to its session, caught through a self-pipe.
enum ForwardedSignals {
    nonisolated(unsafe) static var pipeWrite: Int32 = -1
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH]

    nonisolated(unsafe) static var pipeRead: Int32 = -1

    /// Installs the handlers once per process; returns the read end of the self-pipe.
    @discardableResult
    static func installOnce() -> Int32 {
        if pipeRead >= 0 { return pipeRead }
        guard let p = try? makePipe() else { return -1 }
        _ = fcntl(p.write.raw, F_SETFL, O_NONBLOCK)
        _ = fcntl(p.read.raw, F_SETFL, O_NONBLOCK)
        pipeWrite = p.write.release()
        pipeRead = p.read.release()
        for sig in forwarded {
            var sa = sigaction()
            sa.__sigaction_handler.sa_handler = { signo in
                var b = UInt8(truncatingIfNeeded: signo)
                let saved = errno
                _ = write(ForwardedSignals.pipeWrite, &b, 1)
                errno = saved
            }
            sa.sa_flags = SA_RESTART
            sigaction(sig, &sa, nil)
        }
        return pipeRead
    }
}
