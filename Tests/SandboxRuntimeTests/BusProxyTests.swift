// The supervisor's bus proxy launcher against the real kernel, with a stand-in
// for xdg-dbus-proxy (a shell script that behaves like it on --fd): the program
// runs in its own user+mount namespace with the identity file at its root, its
// root is read-only, its output is relayed, its readiness awaited, its early
// death or a missing program is an error with the reason, and shutdown ends it.
import Testing
import SandboxCore
@testable import SandboxRuntime
@testable import SandboxSupervision
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

@Suite(.serialized, .enabled(if: HostRequirements.namespaces, "needs unprivileged user and mount namespaces (the proxy runs in its own)"))
struct BusProxyTests {
    final class Lines: @unchecked Sendable {
        var all: [String] = []
    }

    /// A directory with an executable `proxy` script (BODY after the --fd parsing).
    func fakeProxy(_ body: String) throws -> (dir: String, path: String) {
        let dir = TemporaryDirectory(prefix: "sandbox-busproxy-test").path
        let path = dir + "/proxy"
        try HostFile.writeAtomically(Array("#!/bin/bash\nfd=${1#--fd=}\n\(body)\n".utf8), to: path, mode: 0o755)
        return (dir, path)
    }

    func remove(_ dir: String) {
        TemporaryDirectory(adopting: dir).remove()
    }

    func mediation(proxy: String, dir: String) -> DBusMediation {
        DBusMediation(proxy: proxy, appID: "org.sandbox.Profile.t",
                      session: DBusProxiedBus(upstream: "unix:path=/nonexistent", socketPath: dir + "/dbus/bus", rules: DBusRules()),
                      system: nil,
                      identity: FlatpakInfo.render(appID: "org.sandbox.Profile.t", instance: "t", network: false,
                                                   sessionBusProxy: true, systemBusProxy: false),
                      log: false)
    }

    @Test func runsWithTheIdentityAtItsReadOnlyRoot() throws {
        let (dir, path) = try fakeProxy("""
            cat /.flatpak-info
            if (echo x >/.flatpak-info || touch /new) 2>/dev/null; then echo root-writable; fi
            test -x /bin/sh && echo host-tree-visible
            printf x >&"$fd"
            exec sleep 30
            """)
        defer { remove(dir) }
        let lines = Lines()
        let proxy = try BusProxy.launch(mediation(proxy: path, dir: dir), container: "t") { line, _ in lines.all.append(line) }
        try proxy.waitUntilReady()
        // It runs in its own mount and user namespaces, as this user.
        var own = stat(), its = stat()
        #expect(stat("/proc/self/ns/mnt", &own) == 0 && stat("/proc/\(proxy.pid)/ns/mnt", &its) == 0)
        #expect(own.st_ino != its.st_ino)
        #expect(HostFile.read("/proc/\(proxy.pid)/root/.flatpak-info")?.hasPrefix("[Application]\nname=org.sandbox.Profile.t\n") == true)
        // Its socket directory exists for the container to bind.
        var st = stat()
        #expect(stat(dir + "/dbus", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR)
        proxy.shutdown()   // sleep ignores the closed --fd: SIGKILL after 1 s
        #expect(kill(proxy.pid, 0) != 0)
        #expect(lines.all.contains("dbus: name=org.sandbox.Profile.t"))
        #expect(lines.all.contains("dbus: host-tree-visible"))
        #expect(!lines.all.contains("dbus: root-writable"))
    }

    @Test func anEarlyExitIsAnErrorWithItsLastWords() throws {
        let (dir, path) = try fakeProxy("echo 'Failed to connect to bus: nowhere' >&2; exit 1")
        defer { remove(dir) }
        let proxy = try BusProxy.launch(mediation(proxy: path, dir: dir), container: "t") { _, _ in }
        #expect { try proxy.waitUntilReady() } throws: { error in
            "\(error)".contains("exited before listening: Failed to connect to bus: nowhere")
        }
    }

    @Test func aMissingProgramIsAnError() throws {
        let (dir, _) = try fakeProxy("exit 0")
        defer { remove(dir) }
        let proxy = try BusProxy.launch(mediation(proxy: dir + "/absent", dir: dir), container: "t") { _, _ in }
        #expect { try proxy.waitUntilReady() } throws: { error in
            "\(error)".contains("executing it: no such file or directory")
        }
    }

    @Test func itsDeathIsReportedToTheLoop() throws {
        let (dir, path) = try fakeProxy("printf x >&\"$fd\"; sleep 0.2; exit 3")
        defer { remove(dir) }
        let lines = Lines()
        let proxy = try BusProxy.launch(mediation(proxy: path, dir: dir), container: "t") { line, important in
            if important { lines.all.append(line) }
        }
        try proxy.waitUntilReady()
        // Drive it as the supervisor's loop does until it reports.
        var fds: [pollfd] = []
        for _ in 0..<50 where lines.all.isEmpty {
            fds.removeAll()
            proxy.interest { fd, events in fds.append(pollfd(fd: fd, events: events, revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 100)
            for p in fds where p.revents != 0 { proxy.ready(fd: p.fd, revents: p.revents) }
        }
        #expect(lines.all.first?.contains("the bus proxy (pid \(proxy.pid)) exited (exit status 3)") == true, "\(lines.all)")
        proxy.shutdown()
    }
}
