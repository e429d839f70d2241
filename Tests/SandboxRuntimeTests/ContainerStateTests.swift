import Testing
import CSandboxSpawn
import SandboxCore
@testable import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ContainerStateTests {
    let sample = ContainerState(name: "chrome", initPid: 4242, initStartTime: 98765, supervisorPid: 4240,
                                supervisorStartTime: 98760, persistent: false,
                                profilePath: "/home/ann/.config/sandbox/profiles/chrome.toml",
                                profileFingerprint: "abc123", startedAt: 1_700_000_000)

    @Test func roundTrips() {
        #expect(ContainerState.parse(sample.serialized()) == sample)
    }

    @Test func damagedOrForeignStateIsRejected() {
        #expect(ContainerState.parse("") == nil)
        #expect(ContainerState.parse(sample.serialized().replacingOccurrences("version=1", "version=2")) == nil)
        #expect(ContainerState.parse(sample.serialized().replacingOccurrences("init_pid=4242", "init_pid=-3")) == nil)
        #expect(ContainerState.parse(sample.serialized().replacingOccurrences("persistent=0", "persistent=yes")) == nil)
        #expect(ContainerState.parse("garbage without equals\n") == nil)
    }

    @Test func aliveOnlyWithTheRecordedStartTime() {
        #expect(sample.isAlive { $0 == 4242 ? 98765 : nil })
        #expect(!sample.isAlive { $0 == 4242 ? 11111 : nil })   // pid reused by another process
        #expect(!sample.isAlive { _ in nil })                    // gone
    }

    @Test func ownProcessStartTimeIsReadable() {
        #expect(processStartTime(getpid()) != nil)
    }

    @Test func staleStateDirectoryIsDetectedAndRemoved() throws {
        let base = "/tmp/sandbox-state-test-\(getpid())"
        mkdir(base, 0o700)
        let root = base + "/sandbox"
        let dir = ContainerDirectory(root: root)
        defer { dir.remove("x"); unlink(root + "/x.lock"); rmdir(root); rmdir(base) }
        let lock = try dir.lock("x")
        defer { lock.close() }
        #expect(dir.status("x") == .notRunning)
        mkdir(dir.stateDir("x"), 0o700)
        var dead = sample
        dead.name = "x"
        dead.initPid = 999_999_999 & 0x3fffffff
        try dir.write(dead)
        #expect(dir.status("x") == .stale)
        var live = dead
        live.initPid = getpid()
        live.initStartTime = processStartTime(getpid())!
        try dir.write(live)
        #expect(dir.status("x") == .running(live))
        #expect(dir.names() == ["x"])
        // The mediators' subdirectory goes too; a symlink is removed, not followed.
        let outside = base + "/outside"
        mkdir(outside, 0o700)
        #expect(close(open(outside + "/keep", O_CREAT | O_WRONLY, 0o600)) == 0)
        mkdir(dir.stateDir("x") + "/pulse", 0o700)
        #expect(close(open(dir.stateDir("x") + "/pulse/client.conf", O_CREAT | O_WRONLY, 0o600)) == 0)
        #expect(symlink(outside, dir.stateDir("x") + "/link") == 0)
        dir.remove("x")
        #expect(dir.status("x") == .notRunning)
        #expect(access(dir.stateDir("x"), F_OK) != 0)
        #expect(access(outside + "/keep", F_OK) == 0)
        unlink(outside + "/keep"); rmdir(outside)
    }

    @Test func aRuntimeDirectoryOthersCanWriteIsRefused() throws {
        let parent = "/tmp/sandbox-state-open-\(getpid())"
        mkdir(parent, 0o700)
        chmod(parent, 0o777)   // like a /tmp fallback someone else prepared
        defer { unlink(parent + "/sandbox/x.lock"); rmdir(parent + "/sandbox"); rmdir(parent) }
        do {
            _ = try ContainerDirectory(root: parent + "/sandbox").lock("x")
            Issue.record("a world-writable runtime directory was accepted")
        } catch let e as SandboxError {
            #expect(e.message.contains("not a private directory"))
        }
        chmod(parent, 0o700)
        let lock = try ContainerDirectory(root: parent + "/sandbox").lock("x")
        lock.close()
    }

    @Test func requestEncodingMatchesTheInitsLayout() {
        let r = SessionRequest(argv: ["a", "bc"], environment: ["K=V"], workingDirectory: "/w", uid: 7, gid: 8)
        let bytes = r.encoded(flags: 1)
        let header = MemoryLayout<UInt32>.size * 10
        #expect(bytes.count == header + "/w\0a\0bc\0K=V\0".utf8.count)
        #expect(Array(bytes[header...]) == Array("/w\0a\0bc\0K=V\0".utf8))
    }

    @Test func shellStatus() {
        #expect(SessionRunner.shellStatus(3 << 8) == 3)
        #expect(SessionRunner.shellStatus(9) == 137)
    }

    @Test func mountFailureNamesTheDeviceAndTheFix() {
        var plan = LaunchPlan(name: "chrome", hostname: "chrome")
        plan.mounts = [.device(source: "/dev/dri", target: "/dev/dri", optional: false)]
        let e = ChildFailure(stage: 8, errno: ENODEV, index: 0).error(plan: plan)
        #expect(e.message == "chrome: binding device /dev/dri on /dev/dri: no such device")
        #expect(e.hint == "set devices.dri = false or plug the device in")
    }

    @Test func aRefusedMountPointAndAKernelWithoutOpenat2AreExplained() {
        var plan = LaunchPlan(name: "img", hostname: "img")
        plan.mounts = [.mkdir(path: "/usr/local/share/fonts/u", mode: 0o755)]
        let mkdir = Int32(SBX_STAGE_MOUNT_MKDIR.rawValue)
        let loop = ChildFailure(stage: mkdir, errno: ELOOP, index: 0).error(plan: plan)
        #expect(loop.message == "img: creating directory /usr/local/share/fonts/u (creating the mount point): a symlink on the way loops or leads out of the container's root")
        #expect(loop.hint == "in an image rootfs, find the link with `sandbox exec --root img -- namei -l /usr/local/share/fonts/u` and replace it with a directory")
        let old = ChildFailure(stage: mkdir, errno: ENOSYS, index: 0).error(plan: plan)
        #expect(old.hint?.contains("openat2 (Linux 5.6+)") == true)
    }

    @Test func loopbackFailureIsItsOwnStage() {
        let plan = LaunchPlan(name: "chrome", hostname: "chrome")
        let e = ChildFailure(stage: Int32(SBX_STAGE_LOOPBACK.rawValue), errno: EPERM, index: 0).error(plan: plan)
        #expect(e.message == "chrome: cannot bring up the loopback interface (lo) in the container's network namespace: operation not permitted")
        #expect(e.hint?.contains("network.mode = \"host\"") == true)
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
