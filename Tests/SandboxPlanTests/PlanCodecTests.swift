import SandboxPlan
import Testing
import SandboxTestSupport

@Suite struct PlanCodecTests {
    /// A plan with every kind of field and mount step filled in, with awkward text.
    static var sample: SupervisorPlan {
        var p = LaunchPlan(name: "chrome", hostname: "chrome")
        p.namespaces = [.user, .mount, .pid, .net]
        p.uidMap = [IDMapping(inside: 0, outside: 100_000, count: 1000), IDMapping(inside: 1000, outside: 1000, count: 1)]
        p.gidMap = [IDMapping(inside: 1000, outside: 1000, count: 1)]
        p.mounts = [
            .tmpfs(target: "/", options: "mode=0755"),
            .bind(source: "/usr", target: "/usr", readonly: true, recursive: true, optional: false),
            .device(source: "/dev/dri", target: "/dev/dri", optional: true),
            .proc(target: "/proc"), .devpts(target: "/dev/pts"), .mkdir(path: "/run/user/1000", mode: 0o700),
            .symlink(target: "usr/lib", path: "/lib"),
            .file(path: "/etc/passwd", contents: "root:x:0:0::/root:/bin/sh\nü ß \"q\" \\ \n", mode: 0o644),
            .userBind(source: "/run/user/1000/doc/by-app/org.sandbox.Profile.chrome", target: "/run/user/1000/doc", optional: true),
            .remountReadonly(target: "/"),
        ]
        p.command = ["google-chrome", "--flag"]
        p.argv = p.command + ["https://example.invalid/a b"]
        p.environment = ["HOME=/home/u", "EMPTY="]
        p.workingDirectory = "/home/u/Downloads"
        p.uid = 1000
        p.gid = 1000
        p.supplementaryGroups = [44, 109]
        p.notices = ["home.mode = \"host\": no boundary"]
        p.onceNotices = ["devices.snd: no /dev/snd; skipped"]
        p.seccompFilter = (0..<64).map { UInt8($0 * 3 & 0xff) }
        p.stopTimeout = 7
        p.processLimit = 321
        p.hostDirectories = [HostDirectory(trusted: "/home/u/.local/share/sandbox/chrome/home"),
                             HostDirectory(root: "/home/u/.local/share/sandbox/chrome/home", path: "/home/u/.local/share/sandbox/chrome/home/Downloads")]
        p.visiblePaths = [(host: "/home/u/Downloads", container: "/home/u/Downloads")]
        p.home = "/home/u"
        p.sound = SoundMediation(socketPath: "/run/user/1000/sandbox/chrome/pulse/native", upstream: "/run/user/1000/pulse/native", microphone: true)
        p.x11 = X11Mediation(display: 82, serverSocket: "/tmp/.X11-unix/X82", proxySocket: "/run/user/1000/sandbox/chrome/x11.sock",
                             userXauthority: "/home/u/.Xauthority", containerXauthority: "/run/user/1000/sandbox/chrome/Xauthority",
                             trusted: false, required: true)
        p.dbus = DBusMediation(
            proxy: "/usr/bin/xdg-dbus-proxy", appID: "org.sandbox.Profile.chrome",
            session: DBusProxiedBus(upstream: "unix:path=/run/user/1000/bus", socketPath: "/run/user/1000/sandbox/chrome/bus",
                                    rules: DBusRules(talk: ["org.freedesktop.Notifications", "org.freedesktop.portal.*"],
                                                     own: ["org.mpris.MediaPlayer2.chrome.*"], see: ["org.a.B"],
                                                     call: ["org.x.Y=org.x.Y.Get@/org/x/*"], broadcast: ["org.x.Y=*"])),
            system: DBusProxiedBus(upstream: "unix:path=/run/dbus/system_bus_socket", socketPath: "/run/user/1000/sandbox/chrome/system-bus",
                                   rules: DBusRules(talk: ["org.freedesktop.UPower"])),
            identity: "[Application]\nname=org.sandbox.Profile.chrome\n", log: true,
            documents: "/run/user/1000/doc/by-app/org.sandbox.Profile.chrome")
        return SupervisorPlan(plan: p, persistent: true, runtimeDir: "/run/user/1000/sandbox",
                              profilePath: "/home/u/.config/sandbox/profiles/chrome.toml", profileFingerprint: "12:34",
                              network: .pasta(pidFile: "/run/user/1000/sandbox/chrome/pasta.pid", arguments: ["--dns-forward", "169.254.0.1"]),
                              logLevel: "debug", logFile: "/tmp/log")
    }

    @Test func roundTripsEveryField() throws {
        let spec = Self.sample
        #expect(try PlanCodec.decode(PlanCodec.encode(spec)) == spec)
        var other = spec
        other.network = .veth(bridge: "sandboxbr0", helper: "/usr/libexec/sandbox/sandbox-net")
        other.logFile = nil
        other.persistent = false
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.network = .none
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.x11 = nil   // no X11 proxy
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.x11 = X11Mediation(display: 0, serverSocket: "", proxySocket: "", userXauthority: "", containerXauthority: "",
                                      trusted: true, required: false)
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.dbus?.system = nil   // session bus only
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.dbus?.session = nil   // system bus only
        other.plan.dbus?.system = Self.sample.plan.dbus?.system
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.dbus?.handOver = .readWrite
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.dbus?.handOver = .none
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.dbus?.documents = nil
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
        other.plan.dbus = nil
        #expect(try PlanCodec.decode(PlanCodec.encode(other)) == other)
    }

    @Test func refusesAnotherVersionOrFormat() {
        var bytes = PlanCodec.encode(Self.sample)
        bytes[7] = PlanCodec.version &+ 1
        #expect(throws: PlanDecodingError.self) { try PlanCodec.decode(bytes) }
        #expect(throws: PlanDecodingError.self) { try PlanCodec.decode(Array("#!/bin/sh\n".utf8)) }
        #expect(throws: PlanDecodingError.self) { try PlanCodec.decode([]) }
    }

    @Test func everyTruncationIsAnErrorNotACrash() {
        let bytes = PlanCodec.encode(Self.sample)
        for n in 0..<bytes.count {
            #expect(throws: PlanDecodingError.self) { try PlanCodec.decode(Array(bytes.prefix(n))) }
        }
        #expect(throws: PlanDecodingError.self) { try PlanCodec.decode(bytes + [0]) }
    }

    @Test func hostileLengthsDoNotAllocate() {
        // The name's length field says 4 GiB.
        var bytes = PlanCodec.encode(Self.sample)
        for i in 8..<12 { bytes[i] = 0xff }
        #expect(throws: PlanDecodingError.self) { try PlanCodec.decode(bytes) }
    }

    @Test func aNulInsideAStringIsRefused() throws {
        var spec = Self.sample
        spec.plan.argv = ["a\u{0}b"]
        #expect(throws: PlanDecodingError.self) { try PlanCodec.decode(PlanCodec.encode(spec)) }
    }

    /// A fuzz run of the decoder: random mutations of a valid plan (bit flips,
    /// byte overwrites with boundary values, cuts, splices) must decode or throw,
    /// never trap. Deterministic (seeded), so a failure reproduces.
    @Test func fuzzedPlansNeverCrashTheDecoder() {
        let base = PlanCodec.encode(Self.sample)
        var rng = SplitMix(seed: 0x5bd1e995)
        var decoded = 0, refused = 0
        for _ in 0..<20_000 {
            var b = base
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 5 {
                case 0: b[i] ^= UInt8(1 << (rng.next() % 8))
                case 1: b[i] = [0, 1, 0x7f, 0x80, 0xff][Int(rng.next() % 5)]
                case 2: b.removeSubrange(i..<min(b.count, i + Int(rng.next() % 16)))
                case 3: let j = i % base.count; b.insert(contentsOf: base[j..<min(base.count, j + 8)], at: i)
                default: if i + 4 <= b.count { for k in 0..<4 { b[i + k] = 0xff } }
                }
                if b.isEmpty { b = [0] }
            }
            do { _ = try PlanCodec.decode(b); decoded += 1 } catch { refused += 1 }
        }
        #expect(decoded + refused == 20_000)
        #expect(refused > 0)
    }
}

