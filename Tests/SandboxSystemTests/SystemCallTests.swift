import SandboxSystem
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A thread blocked in read(2) on a pipe, through `retryingEINTR`: the test
/// interrupts it with a signal whose handler is installed without SA_RESTART, so
/// the kernel makes the read fail with EINTR instead of restarting it.
private final class InterruptedReader: Sendable {
    let fd: Int32
    let calls = Atomic<Int>(0)
    let result = Atomic<Int>(0)
    init(fd: Int32) { self.fd = fd }

    func run() {
        // The test runner's threads may block it; this thread must take it.
        var urg = sigset_t()
        sigemptyset(&urg)
        sigaddset(&urg, SIGURG)
        pthread_sigmask(SIG_UNBLOCK, &urg, nil)
        var byte: UInt8 = 0
        let n = retryingEINTR { () -> Int in
            calls.add(1, ordering: .sequentiallyConsistent)
            return read(fd, &byte, 1)
        }
        result.store(n, ordering: .sequentiallyConsistent)
    }
}

@Test func retryingEINTRMakesAnInterruptedReadAgain() throws {
    var action = sigaction()
    action.__sigaction_handler = .init(sa_handler: { _ in })
    action.sa_flags = 0   // no SA_RESTART: the blocked read returns EINTR
    sigemptyset(&action.sa_mask)
    var old = sigaction()
    // SIGURG: ignored by default and used by nothing else in the test process.
    #expect(sigaction(SIGURG, &action, &old) == 0)
    defer { sigaction(SIGURG, &old, nil) }

    let pipe = try makePipe()
    let reader = InterruptedReader(fd: pipe.read.raw)
    var thread = pthread_t()
    let box = Unmanaged.passRetained(reader).toOpaque()
    #expect(pthread_create(&thread, nil, { arg in
        let reader = Unmanaged<InterruptedReader>.fromOpaque(arg!).takeRetainedValue()
        reader.run()
        return nil
    }, box) == 0)
    // A signal that lands before the read blocks interrupts nothing: signal
    // until the body has been called twice (once more after an EINTR).
    for _ in 0..<500 where reader.calls.load(ordering: .sequentiallyConsistent) < 2 {
        pthread_kill(thread, SIGURG)
        usleep(10_000)
    }
    var byte: UInt8 = 7
    #expect(write(pipe.write.raw, &byte, 1) == 1)
    pthread_join(thread, nil)
    #expect(reader.calls.load(ordering: .sequentiallyConsistent) >= 2)
    #expect(reader.result.load(ordering: .sequentiallyConsistent) == 1)
}

@Test func retryingEINTRReturnsOtherFailuresAtOnce() {
    var calls = 0
    var byte: UInt8 = 0
    let n = retryingEINTR { () -> Int in
        calls += 1
        return read(-1, &byte, 1)
    }
    let e = errno
    #expect(n == -1)
    #expect(e == EBADF)
    #expect(calls == 1)
}

@Test func retryingThrowsTheCallAndItsErrno() {
    #expect {
        try retrying("fcntl") { fcntl(-1, F_GETFD) }
    } throws: { error in
        guard let error = error as? SandboxError else { return false }
        return error.what == "fcntl" && error.errno == EBADF && error.description == "fcntl: bad file descriptor"
    }
    #expect((try? retrying("getpid") { getpid() }) == getpid())
}

@Test func errnoTextIsLowerCased() {
    #expect(errnoText(ENOENT) == "no such file or directory")
    #expect(errnoText(EACCES) == "permission denied")
}
