import Testing
import CLibseccomp
import CSandboxSpawn
import SandboxCore
@testable import SandboxRuntime
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

/// A real container from this (multithreaded) test process: the C boundary, the
/// mount list, the init and one session with a seccomp filter. Needs user
/// namespaces, and either root or a subuid range for the user running the tests.
@Suite(.serialized, .enabled(if: HostRequirements.containers,
                              "needs user, pid and mount namespaces, seccomp filters, and the setuid newuidmap/newgidmap for this user's /etc/subuid range"))
struct SpawnTests {
    /// struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, in host byte order as the kernel reads it.
    static func instruction(_ code: UInt16, _ jt: UInt8, _ jf: UInt8, _ k: UInt32) -> [UInt8] {
        withUnsafeBytes(of: code) { Array($0) } + [jt, jf] + withUnsafeBytes(of: k) { Array($0) }
    }

    /// uname(2), by its number on the architecture the tests run on, fails with EPERM;
    /// everything else is allowed. No architecture check: the sessions here use the native ABI.
    static let denyUname: [UInt8] =
        instruction(0x20, 0, 0, 0)                  // ld [nr]
        + instruction(0x15, 0, 1, UInt32(seccomp_syscall_resolve_name("uname"))) // jeq uname (the native number, resolved)
        + instruction(0x06, 0, 0, 0x0005_0000 | 1)  // ret ERRNO(EPERM)
        + instruction(0x06, 0, 0, 0x7fff_0000)      // ret ALLOW

    /// A started container, the launcher's connection to its init (the first client),
    /// and what `stop()` must undo.
    struct Started {
        let plan: LaunchPlan
        let container: ContainerProcess
        let connection: ControlConnection
        let base: String
        let gate: OwnedFD

        /// The last client goes: the init stops the container; reaped here.
        func stop() {
            connection.socket.close()
            #expect(waitReadable(container.pidfd.raw, timeoutMs: 5000))
            ContainerSpawner.reap(container.pid)
            gate.close()
            ContainerDirectory(root: base + "/run").remove("x")
            rmdir(base + "/run")
            rmdir(base)
        }
    }

    /// `image`: a rootfs.path tree instead of the host rootfs; the host's /usr/bin, /usr/lib
    /// and /usr/lib64 are bound into it so /bin/sh runs. `extra` is appended to the mount list.
    func start(filter: [UInt8], image: String? = nil, extra: [MountOp] = []) throws -> Started {
        let user = UserIdentity.current()
        let base = "/tmp/sandbox-spawn-test-\(getpid())"
        let paths = Paths(configDir: base + "/config", dataDir: base + "/data", runtimeDir: base + "/run", profileDirs: [])
        var profile = Profile(name: "spawntest", sourcePath: base + "/spawntest.toml")
        profile.home.mode = .tmpfs
        if let image {
            profile.rootfs.mode = .image
            profile.rootfs.path = image
        }
        let subuid = SubordinateIDs.parse(contents: HostFile.read("/etc/subuid") ?? "", user: user.name, uid: user.uid)
        let subgid = SubordinateIDs.parse(contents: HostFile.read("/etc/subgid") ?? "", user: user.name, uid: user.uid)
        // An image gets only the user's own ids: what the child creates in it stays removable by
        // the test, and the user's uid mapped 1:1 is what gives the child power over the user's files.
        let idmap = IDMapPlanner.plan(settings: profile.idmap, uid: user.uid, gid: user.gid, userName: user.name,
                                      subuid: image == nil ? subuid : [], subgid: image == nil ? subgid : [])
        var plan = try LaunchPlanner.plan(profile: profile, paths: paths, user: user, idmap: idmap)
        plan.seccompFilter = filter
        plan.stopTimeout = 1
        if image != nil {
            // /lib and /lib64 are symlinks in the image (merged /usr): the binds go through them.
            plan.mounts.insert(contentsOf: [("/usr/bin", "/usr/bin"), ("/usr/lib", "/lib"), ("/usr/lib64", "/lib64")].map {
                MountOp.bind(source: $0.0, target: $0.1, readonly: true, recursive: true, optional: true)
            }, at: 1)
        }
        plan.mounts += extra

        try HostFile.makeDirectories(base + "/run", mode: 0o700)
        var cleanUp = true
        defer { if cleanUp { ContainerDirectory(root: base + "/run").remove("x"); rmdir(base + "/run"); rmdir(base) } }
        // The control gate's handoff pair (nothing is handed over here: the first client is).
        var gate: [Int32] = [-1, -1]
        #expect(sbx_socketpair_seqpacket_cloexec(&gate) == 0)
        let listen = OwnedFD(gate[1]), gateOurs = OwnedFD(gate[0])
        defer { listen.close() }
        var pair: [Int32] = [-1, -1]
        #expect(sbx_socketpair_seqpacket_cloexec(&pair) == 0)
        let theirs = OwnedFD(pair[1])
        defer { theirs.close() }
        let connection = ControlConnection(socket: OwnedFD(pair[0]))
        let container = try ContainerSpawner.spawn(plan: plan, listenFD: listen.raw, firstClientFD: theirs.raw, persistent: false)
        cleanUp = false
        return Started(plan: plan, container: container, connection: connection, base: base, gate: gateOurs)
    }

    /// Runs `script` in one session of a new container; its status and output.
    func run(_ script: String, filter: [UInt8], image: String? = nil, extra: [MountOp] = []) throws -> (status: Int32, output: String) {
        let started = try start(filter: filter, image: image, extra: extra)
        defer { started.stop() }
        let out = try makePipe()
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        let request = SessionRequest(argv: ["/bin/sh", "-c", script], environment: started.plan.environment,
                                     workingDirectory: "/", uid: started.plan.uid, gid: started.plan.gid)
        let status = try SessionRunner.run(request, on: started.connection, stdio: [null, out.write.raw, out.write.raw])
        out.write.close()
        let text = String(decoding: readAll(out.read.raw), as: UTF8.self)
        return (status, text)
    }

    @Test func sessionRunsWithTheFilterNoCapabilitiesAndItsOwnPidNamespace() throws {
        let r = try run("grep -E '^(Seccomp|NoNewPrivs|CapEff|CapBnd):' /proc/self/status; cat /proc/1/comm; uname -s || echo UNAME-DENIED; exit 4",
                        filter: Self.denyUname)
        #expect(r.status == 4)
        #expect(r.output.contains("Seccomp:\t2"))
        #expect(r.output.contains("NoNewPrivs:\t1"))
        #expect(r.output.contains("CapEff:\t0000000000000000"))
        #expect(r.output.contains("CapBnd:\t0000000000000000"))
        #expect(r.output.contains("sandbox-init"))
        #expect(r.output.contains("UNAME-DENIED"))
        #expect(!r.output.contains("Linux"))
    }

    @Test func withoutAFilterSeccompIsOff() throws {
        let r = try run("grep '^Seccomp:' /proc/self/status; uname -s", filter: [])
        #expect(r.status == 0)
        #expect(r.output.contains("Seccomp:\t0"))
        #expect(r.output.contains("Linux"))
    }

    @Test func aMalformedFilterIsRefusedBeforeAnythingStarts() {
        #expect(throws: SandboxError.self) { try run("true", filter: [1, 2, 3]) }
    }

    // MARK: mount targets stay inside an image rootfs (issue 9 #3b, CVE-2024-42472's class)

    /// A tiny image rootfs (merged /usr: bin -> usr/bin, lib -> usr/lib, lib64 -> /usr/lib64,
    /// the last one absolute) next to a private host directory (0700, one file) and a
    /// directory of "fonts" to bind. Root inside an image can plant any symlink in it.
    struct ImageFixture {
        let directory = TemporaryDirectory(prefix: "sandbox-spawn-image")
        var base: String { directory.path }
        var image: String { base + "/rootfs" }
        var privateDir: String { base + "/private" }
        var fonts: String { base + "/fonts" }
        init() throws {
            chmod(base, 0o755)  // as a directory made with mkdir would be: the container's ids walk through it
            for dir in [image + "/usr/bin", image + "/usr/lib", image + "/usr/lib64", image + "/usr/local/share", privateDir, fonts] {
                try HostFile.makeDirectories(dir, mode: 0o755)
            }
            symlink("usr/bin", image + "/bin")
            symlink("usr/lib", image + "/lib")
            symlink("/usr/lib64", image + "/lib64")
            try HostFile.writeAtomically("secret\n", to: privateDir + "/secret", mode: 0o600)
            chmod(privateDir, 0o700)
            try HostFile.writeAtomically("font\n", to: fonts + "/font.ttf", mode: 0o644)
        }
        func remove() { directory.remove() }
        /// The private host directory is as it was: mode 0700, only `secret`.
        func expectPrivateUntouched(sourceLocation: Testing.SourceLocation = #_sourceLocation) {
            var st = stat()
            #expect(stat(privateDir, &st) == 0, sourceLocation: sourceLocation)
            #expect(st.st_mode & 0o7777 == 0o700, "mode of the host directory", sourceLocation: sourceLocation)
            #expect(entries(privateDir) == ["secret"], "contents of the host directory", sourceLocation: sourceLocation)
        }
        func entries(_ dir: String) -> [String] {
            guard let d = opendir(dir) else { return [] }
            defer { closedir(d) }
            var names: [String] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            return names.sorted()
        }
    }

    /// The case: /usr/local/share/fonts holds a symlink to a host path (through
    /// /oldroot, where the child reaches the host tree before pivot_root). The old child's
    /// mkdir -p + chmod followed it and made the host directory 0755, and the bind landed
    /// on it. Now the link is followed as if the image were /: the mount point is created
    /// inside the image, and the host directory is untouched.
    @Test func aSymlinkInAnImageIsFollowedInsideTheImageNotOnTheHost() throws {
        let f = try ImageFixture()
        defer { f.remove() }
        try HostFile.makeDirectories(f.image + "/usr/local/share/fonts", mode: 0o755)
        symlink("/oldroot" + f.privateDir, f.image + "/usr/local/share/fonts/user")
        let r = try run("ls /usr/local/share/fonts/user/; ls -d /oldroot\(f.privateDir)", filter: [], image: f.image, extra: [
            .mkdir(path: "/usr/local/share/fonts/user", mode: 0o755),
            .bind(source: f.fonts, target: "/usr/local/share/fonts/user", readonly: true, recursive: true, optional: false),
        ])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("font.ttf"))
        #expect(r.output.contains("/oldroot\(f.privateDir)"))
        f.expectPrivateUntouched()
        // Created where the link points inside the image, with the planned mode.
        var st = stat()
        #expect(lstat(f.image + "/oldroot" + f.privateDir, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR)
        #expect(st.st_mode & 0o7777 == 0o755)
    }

    /// The mount point itself replaced by a relative symlink that climbs out with "..":
    /// ".." stops at the image's root, so the target is made inside the image.
    @Test func dotDotInAnImageSymlinkStopsAtTheImageRoot() throws {
        let f = try ImageFixture()
        defer { f.remove() }
        symlink("../../../../../../../../oldroot" + f.privateDir, f.image + "/usr/local/share/fonts")
        let r = try run("ls /usr/local/share/fonts/x/", filter: [], image: f.image, extra: [
            .bind(source: f.fonts, target: "/usr/local/share/fonts/x", readonly: true, recursive: true, optional: false),
            .file(path: "/usr/local/share/fonts/generated.conf", contents: "<fontconfig/>\n", mode: 0o644),
        ])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("font.ttf"))
        f.expectPrivateUntouched()
        #expect(f.entries(f.image + "/oldroot" + f.privateDir) == ["generated.conf", "x"])
    }

    /// A /proc magic link leads out of any root (the child's own /proc/self/root is the
    /// staging root, which holds the host under /oldroot): refused, and the start fails
    /// naming the mount point.
    @Test func aMagicLinkInAnImageFailsTheStartNamingTheMountPoint() throws {
        let f = try ImageFixture()
        defer { f.remove() }
        // Relative, so that the old child, resolving from the staging root, reached the container's /proc.
        symlink("../../../proc/self/root/oldroot" + f.privateDir, f.image + "/usr/local/share/fonts")
        #expect {
            _ = try run("true", filter: [], image: f.image, extra: [
                .bind(source: f.fonts, target: "/usr/local/share/fonts/x", readonly: true, recursive: true, optional: false),
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("binding \(f.fonts) on /usr/local/share/fonts/x (creating the mount point): a symlink on the way loops or leads out of the container's root")
                && text.contains("namei -l /usr/local/share/fonts/x")
        }
        f.expectPrivateUntouched()
    }
}
