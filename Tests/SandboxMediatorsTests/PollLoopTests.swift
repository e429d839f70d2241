import SandboxMediators
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Echoes what arrives on one end of a socketpair and records the shutdown.
final class Echo: Mediator {
    let name = "echo"
    let fd: Int32
    var echoed = 0
    var shutDown = false
    init(fd: Int32) { self.fd = fd }
    func interest(_ watch: (Int32, Int16) -> Void) { watch(fd, Int16(POLLIN)) }
    func ready(fd: Int32, revents: Int16) {
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { echoed += write(fd, buf, n) }
    }
    func shutdown() { shutDown = true }
}

@Suite struct PollLoopTests {
    @Test func drivesMediatorsUntilTheStopDescriptorIsReadable() throws {
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        var stop: [Int32] = [-1, -1]
        #expect(pipe(&stop) == 0)
        defer { [pair[0], pair[1], stop[0], stop[1]].forEach { close($0) } }
        let echo = Echo(fd: pair[1])
        let loop = PollLoop()
        loop.add(echo)
        // The peer writes, and the stop pipe closes only once the echo came back:
        // a loop that ignored the mediator would never see it and hang the test.
        #expect(write(pair[0], "ping", 4) == 4)
        let peer = pair[0], stopWrite = stop[1]
        let t = Thread { 
            var buf = [UInt8](repeating: 0, count: 4)
            _ = buf.withUnsafeMutableBytes { read(peer, $0.baseAddress, 4) }
            close(stopWrite)
        }
        loop.run(until: stop[0])
        t.join()
        #expect(echo.echoed == 4)
        #expect(echo.shutDown)
    }

    /// The supervisor's hand-over: a deadline ends the loop with every mediator
    /// still up (it served what came before), and a later stop still shuts them down.
    @Test func aDeadlineReturnsWithTheMediatorsRunning() throws {
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        var stop: [Int32] = [-1, -1]
        #expect(pipe(&stop) == 0)
        defer { [pair[0], pair[1], stop[0]].forEach { close($0) } }
        let echo = Echo(fd: pair[1])
        let loop = PollLoop()
        loop.add(echo)
        #expect(write(pair[0], "ping", 4) == 4)
        #expect(loop.run(until: stop[0], afterMilliseconds: 50) == .deadline)
        #expect(echo.echoed == 4)
        #expect(!echo.shutDown)
        close(stop[1])
        #expect(loop.run(until: stop[0], afterMilliseconds: 10_000) == .stopped)
        #expect(echo.shutDown)
    }
}

/// A plain pthread, enough for a test peer (no Foundation).
final class Thread {
    var thread = pthread_t()
    init(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&thread, nil, { arg in
            let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            b.body()
            return nil
        }, box)
    }
    func join() { pthread_join(thread, nil) }
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
}
