// The one D-Bus address parser: the launcher's bus planning (which needs a
// socket file) and its own bus client (which also connects to abstract sockets).
import SandboxCore
import Testing

@Suite struct BusAddresses {
    @Test func pathAndAbstractEntries() {
        #expect(UnixBusAddress.parse("unix:path=/run/user/1000/bus") == [.path("/run/user/1000/bus")])
        #expect(UnixBusAddress.parse("unix:abstract=/tmp/dbus-AbC,guid=0123") == [.abstract("/tmp/dbus-AbC")])
        #expect(UnixBusAddress.parse("unix:guid=0123,path=/b") == [.path("/b")])
        #expect(UnixBusAddress.parse("unix:path=/a").first?.socketName == "/a")
        #expect(UnixBusAddress.parse("unix:abstract=x").first?.socketName == "\0x")
        #expect(UnixBusAddress.abstract("/tmp/x").description == "unix:abstract=/tmp/x")
    }

    @Test func entriesInOrderAndOtherTransportsPassedOver() {
        #expect(UnixBusAddress.parse("unix:abstract=/a;tcp:host=x,port=1;unix:path=/b")
            == [.abstract("/a"), .path("/b")])
        #expect(UnixBusAddress.parse("tcp:host=localhost,port=4").isEmpty)
        #expect(UnixBusAddress.parse("nonce-tcp:host=h,port=1,noncefile=/n;unixexec:path=/bin/x").isEmpty)
        // Listening forms name no socket a client can connect to.
        #expect(UnixBusAddress.parse("unix:tmpdir=/tmp;unix:runtime=yes;unix:dir=/d").isEmpty)
    }

    @Test func escapesAreDecoded() {
        #expect(UnixBusAddress.parse("unix:path=/a%20b%2c%3Bc") == [.path("/a b,;c")])
        #expect(UnixBusAddress.parse("unix:abstract=%2Fx") == [.abstract("/x")])
    }

    @Test func garbageGivesNoEntry() {
        for address in ["", ";;", "unix:", "unix:path", "unix:path=", "unix:abstract=", "path=/x", "disabled:",
                        "unix:path=/bad%2", "unix:path=/bad%zz", "unix:path=/bad%+f", "unix:path=/nul%00", "unix:path=/x%ff"] {
            #expect(UnixBusAddress.parse(address).isEmpty, "\(address)")
        }
        // A bad entry does not hide a good one after it.
        #expect(UnixBusAddress.parse("unix:path=/bad%2;unix:path=/good") == [.path("/good")])
    }
}
