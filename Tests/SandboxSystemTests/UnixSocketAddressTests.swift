import SandboxSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What `withUnixSocketAddress` hands its body: the length and the sun_path bytes.
private func built(_ path: String) -> (length: Int, path: [UInt8])? {
    withUnixSocketAddress(path) { addr, length in
        addr.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { un in
            #expect(un.pointee.sun_family == sa_family_t(AF_UNIX))
            let bytes = withUnsafeBytes(of: un.pointee.sun_path) { Array($0) }
            return (Int(length), bytes)
        }
    }
}

@Test func aPathOf107BytesFitsAnd108DoNot() throws {
    let longest = "/" + String(repeating: "s", count: 106)
    let address = try #require(built(longest))
    #expect(address.length == MemoryLayout<sockaddr_un>.size)
    #expect(Array(address.path[0..<107]) == Array(longest.utf8))
    #expect(address.path[107] == 0)   // the path ends at its NUL
    #expect(built(longest + "s") == nil)
}

@Test func emptyAndEmbeddedNULAreRefused() {
    #expect(built("") == nil)
    #expect(built("/tmp/a\0b") == nil)
    #expect(built("\0") == nil)              // an abstract name needs a byte after its NUL
    #expect(built("\0name\0tail") == nil)
}

@Test func anAbstractNameIsExactlyItsBytesLong() throws {
    let name = "\0sandbox-system-test-\(getpid())"
    let address = try #require(built(name))
    #expect(address.length == MemoryLayout<sa_family_t>.size + name.utf8.count)
    #expect(Array(address.path[0..<name.utf8.count]) == Array(name.utf8))

    // The kernel agrees: the name a socket is bound to has no trailing NULs.
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    #expect(fd >= 0)
    defer { close(fd) }
    #expect(withUnixSocketAddress(name) { bind(fd, $0, $1) } == 0)
    var bound = sockaddr_un()
    var length = socklen_t(MemoryLayout<sockaddr_un>.size)
    let rc = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    #expect(rc == 0)
    #expect(Int(length) == address.length)
}
