import Testing
@testable import SandboxCore

func networkProfile(_ mode: Profile.Network.Mode, rootfs: Profile.RootFS.Mode = .host) -> Profile {
    profile {
        $0.network.mode = mode
        $0.rootfs.mode = rootfs
    }
}

func fileOps(_ plan: NetworkPlanner.Plan) -> [String: String] {
    var files: [String: String] = [:]
    for op in plan.mounts { if case let .file(path, contents, mode) = op, mode == 0o644 { files[path] = contents } }
    return files
}

func nameservers(_ text: String) -> [String] {
    text.split(separator: "\n").filter { $0.hasPrefix("nameserver ") }.map { String($0.dropFirst(11)) }
}

@Suite struct NetworkPlannerTests {
    @Test func vethCopiesReachableNameserversAndKeepsSearchAndOptions() {
        let host = "# managed\nnameserver 192.168.1.1\nnameserver  9.9.9.9 \nnameserver 2001:db8::1\nnameserver 127.0.0.53\nsearch lan example.org\noptions edns0 trust-ad\n"
        let r = NetworkPlanner.vethResolvConf(hostResolvConf: host, gateway: "10.55.0.1")
        #expect(nameservers(r.contents) == ["192.168.1.1", "9.9.9.9"])
        #expect(r.contents.contains("search lan example.org\n"))
        #expect(r.contents.contains("options edns0 trust-ad\n"))
        #expect(!r.contents.contains("managed"))
        #expect(r.notice == nil)
    }

    @Test(arguments: ["nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",   // systemd-resolved
                      "nameserver 127.0.0.1\n",                                        // dnsmasq
                      "nameserver ::1\n",                                              // an IPv6 loopback stub
                      "# no nameserver line: glibc asks 127.0.0.1\n", ""])
    func vethPointsAtTheBridgeWhenTheHostUsesALoopbackStub(host: String) {
        let r = NetworkPlanner.vethResolvConf(hostResolvConf: host, gateway: "10.55.0.1")
        #expect(nameservers(r.contents) == ["10.55.0.1"])
        #expect(r.notice == nil)
    }

    @Test func vethWithAStubAndNoKnownGatewaySaysSo() {
        let r = NetworkPlanner.vethResolvConf(hostResolvConf: "nameserver 127.0.0.53\n", gateway: nil)
        #expect(nameservers(r.contents).isEmpty)
        #expect(r.notice?.contains("no DNS") == true)
    }

    @Test func vethCopiesAtMostThreeServersAndIgnoresMalformedAddresses() {
        let host = "nameserver 1.1.1.1\nnameserver 256.1.1.1\nnameserver 1.2.3\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\nnameserver\n"
        #expect(nameservers(NetworkPlanner.vethResolvConf(hostResolvConf: host, gateway: nil).contents)
                == ["1.1.1.1", "2.2.2.2", "3.3.3.3"])
    }

    @Test func pastaAlwaysAsksItsForwardingAddress() {
        let text = NetworkPlanner.pastaResolvConf(hostResolvConf: "nameserver 192.168.1.1\nsearch lan\n")
        #expect(nameservers(text) == [NetworkPlanner.pastaDNSAddress])
        #expect(text.contains("search lan\n"))
    }

    @Test func hostsNamesTheContainerAndKeepsTheHostsOtherMachines() {
        let text = NetworkPlanner.hosts(hostname: "chrome", hostHosts: "127.0.0.1 localhost\n127.0.1.1 laptop\n::1 localhost ip6-localhost\n192.168.1.10 nas nas.lan\n# comment\n")
        #expect(text.contains("127.0.0.1\tlocalhost\n"))
        #expect(text.contains("127.0.1.1\tchrome\n"))
        #expect(text.contains("192.168.1.10 nas nas.lan\n"))
        #expect(!text.contains("laptop"))
    }

    @Test func planPerMode() {
        let host = FakeHost(kinds: [:], files: ["/etc/resolv.conf": "nameserver 127.0.0.53\n", "/etc/hosts": "127.0.0.1 localhost\n"])
        let veth = NetworkPlanner.plan(profile: networkProfile(.veth), paths: annPaths, user: ann, gateway: "10.55.0.1", host: host)
        #expect(nameservers(fileOps(veth)["/etc/resolv.conf"] ?? "") == ["10.55.0.1"])
        #expect(fileOps(veth)["/etc/hosts"]?.contains("127.0.1.1\tapp\n") == true)
        let pasta = NetworkPlanner.plan(profile: networkProfile(.pasta), paths: annPaths, user: ann, gateway: nil, host: host)
        #expect(nameservers(fileOps(pasta)["/etc/resolv.conf"] ?? "") == [NetworkPlanner.pastaDNSAddress])
        // No network: nothing to resolve with, but the container's own name resolves.
        let none = NetworkPlanner.plan(profile: networkProfile(.none), paths: annPaths, user: ann, gateway: nil, host: host)
        #expect(Set(fileOps(none).keys) == ["/etc/hosts"])
        // The host's namespace: the host's files.
        #expect(NetworkPlanner.plan(profile: networkProfile(.host), paths: annPaths, user: ann, gateway: nil, host: host).mounts.isEmpty)
    }

    @Test func aSymlinkedResolvConfIsReplacedAtItsTargetInTheContainersRun() {
        let host = FakeHost(kinds: ["/etc/resolv.conf": .symlink("../run/systemd/resolve/stub-resolv.conf")],
                            files: ["/etc/resolv.conf": "nameserver 127.0.0.53\n", "/etc/hosts": ""])
        let plan = NetworkPlanner.plan(profile: networkProfile(.veth), paths: annPaths, user: ann, gateway: "10.55.0.1", host: host)
        #expect(fileOps(plan)["/run/systemd/resolve/stub-resolv.conf"] != nil)
        #expect(fileOps(plan)["/etc/resolv.conf"] == nil)
        #expect(plan.notices.isEmpty)
        // A symlink somewhere a mount cannot follow safely: left alone, with a notice.
        let odd = FakeHost(kinds: ["/etc/resolv.conf": .symlink("/usr/share/resolv.conf")], files: ["/etc/hosts": ""])
        let kept = NetworkPlanner.plan(profile: networkProfile(.veth), paths: annPaths, user: ann, gateway: "10.55.0.1", host: odd)
        #expect(fileOps(kept)["/etc/resolv.conf"] == nil)
        #expect(kept.notices.contains { $0.contains("/etc/resolv.conf") })
        // Escaping above / is not a target either.
        #expect(NetworkPlanner.fileTarget("/etc/resolv.conf", rootfs: "/", host: FakeHost(kinds: ["/etc/resolv.conf": .symlink("../../../x")])) == nil)
    }

    @Test func imageRootfsFilesAreCheckedInTheImage() {
        let rootfs = annPaths.rootfsDir("app")
        let host = FakeHost(kinds: [rootfs + "/etc/resolv.conf": .symlink("/run/resolvconf/resolv.conf")],
                            files: ["/etc/resolv.conf": "nameserver 10.0.0.1\n"])
        let plan = NetworkPlanner.plan(profile: networkProfile(.veth, rootfs: .image), paths: annPaths, user: ann, gateway: "10.55.0.1", host: host)
        #expect(nameservers(fileOps(plan)["/run/resolvconf/resolv.conf"] ?? "") == ["10.0.0.1"])
        // The image's /etc/hosts is missing: created in the (writable) image and covered.
        #expect(fileOps(plan)["/etc/hosts"] != nil)
    }
}
