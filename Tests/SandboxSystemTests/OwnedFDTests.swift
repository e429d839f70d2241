import SandboxSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A descriptor numbered far above what other tests running in parallel get
/// (the kernel hands out the lowest free number), so a check that it is closed
/// cannot see someone else's file reusing the number.
private func highDescriptor() throws -> Int32 {
    let p = try makePipe()
    let fd = fcntl(p.read.raw, F_DUPFD_CLOEXEC, 700)
    #expect(fd >= 700)
    return fd
}

@Test func ownedFDClosesOnDeinit() throws {
    let fd = try highDescriptor()
    do {
        let owned = OwnedFD(fd)
        #expect(fcntl(owned.raw, F_GETFD) >= 0)
    }
    #expect(fcntl(fd, F_GETFD) == -1)
    #expect(errno == EBADF)
}

@Test func releaseGivesUpOwnershipWithoutClosing() throws {
    let fd = try highDescriptor()
    do {
        let owned = OwnedFD(fd)
        #expect(owned.release() == fd)
        #expect(owned.raw == -1)
    }
    #expect(fcntl(fd, F_GETFD) >= 0)
    close(fd)
}

@Test func closeIsOnceOnly() throws {
    let fd = try highDescriptor()
    let owned = OwnedFD(fd)
    owned.close()
    #expect(owned.raw == -1)
    #expect(fcntl(fd, F_GETFD) == -1)
}

@Test func makePipeEndsAreCloseOnExecAndConnected() throws {
    let p = try makePipe()
    #expect(fcntl(p.read.raw, F_GETFD) & FD_CLOEXEC != 0)
    #expect(fcntl(p.write.raw, F_GETFD) & FD_CLOEXEC != 0)
    var out: UInt8 = 42, back: UInt8 = 0
    #expect(write(p.write.raw, &out, 1) == 1)
    #expect(read(p.read.raw, &back, 1) == 1)
    #expect(back == 42)
}
