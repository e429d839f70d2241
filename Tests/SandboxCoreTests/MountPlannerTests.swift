import Testing
@testable import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// A host described as values: path → kind, plus file contents.
struct FakeHost: HostFilesystem {
    var kinds: [String: HostPathKind]
    var files: [String: String] = [:]
    func kind(of path: String) -> HostPathKind { kinds[path] ?? (files[path] != nil ? .file : .missing) }
    func contents(of path: String) -> String? { files[path] }
}

let debianHost = FakeHost(
    kinds: ["/usr": .directory, "/etc": .directory, "/opt": .directory, "/bin": .symlink("usr/bin"),
            "/sbin": .symlink("usr/sbin"), "/lib": .symlink("usr/lib"), "/lib64": .symlink("usr/lib64"),
            "/home/ann": .directory, "/home/ann/Downloads": .directory, "/home/ann/.config/sandbox": .directory],
    files: ["/etc/passwd": "root:x:0:0:root:/root:/bin/bash\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\nbob:x:1001:1001::/home/bob:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            "/etc/group": "root:x:0:\nvideo:x:44:ann,bob\nann:x:1000:\nbob:x:1001:\n"])

let ann = UserIdentity(uid: 1000, gid: 1000, name: "ann", home: "/home/ann", shell: "/bin/bash")
let annPaths = Paths(configDir: "/home/ann/.config/sandbox", dataDir: "/home/ann/.local/share/sandbox",
                     runtimeDir: "/run/user/1000/sandbox", profileDirs: [])

func profile(_ edit: (inout Profile) -> Void = { _ in }) -> Profile {
    var p = Profile(name: "app", sourcePath: "/home/ann/.config/sandbox/profiles/app.toml")
    edit(&p)
    return p
}

func binds(_ plan: MountPlan) -> [(String, String, Bool)] {
    plan.ops.compactMap { if case let .bind(s, t, ro, _, _) = $0 { return (s, t, ro) } else { return nil } }
}

@Suite struct MountPlannerTests {
    @Test func hostRootfsBindsExistingDirectoriesReadOnlyAndRecreatesSymlinks() throws {
        let plan = try MountPlanner.plan(profile: profile(), paths: annPaths, user: ann, host: debianHost)
        #expect(plan.ops.first == .tmpfs(target: "/", options: "mode=0755"))
        #expect(plan.ops.contains(.bind(source: "/usr", target: "/usr", readonly: true, recursive: true, optional: false)))
        #expect(plan.ops.contains(.bind(source: "/etc", target: "/etc", readonly: true, recursive: true, optional: false)))
        #expect(plan.ops.contains(.symlink(target: "usr/bin", path: "/bin")))
        #expect(plan.ops.contains(.symlink(target: "usr/lib64", path: "/lib64")))
        // absent on this host: nothing planned
        #expect(!plan.ops.contains { if case let .bind(_, t, _, _, _) = $0 { return t == "/lib32" } else { return false } })
        #expect(plan.ops.last == .remountReadonly(target: "/"))
    }

    @Test func minimalDevAndFreshProc() throws {
        let plan = try MountPlanner.plan(profile: profile(), paths: annPaths, user: ann, host: debianHost)
        for dev in ["null", "zero", "full", "random", "urandom", "tty"] {
            #expect(plan.ops.contains(.device(source: "/dev/" + dev, target: "/dev/" + dev, optional: false)))
        }
        #expect(plan.ops.contains(.proc(target: "/proc")))
        #expect(plan.ops.contains(.devpts(target: "/dev/pts")))
        #expect(plan.ops.contains(.symlink(target: "pts/ptmx", path: "/dev/ptmx")))
        #expect(plan.ops.contains(.symlink(target: "/proc/self/fd", path: "/dev/fd")))
        #expect(plan.ops.contains(.tmpfs(target: "/tmp", options: "mode=1777")))
        // /dev is set up before anything is bound into it
        let devIndex = plan.ops.firstIndex(of: .tmpfs(target: "/dev", options: "mode=0755,size=1m"))!
        let nullIndex = plan.ops.firstIndex(of: .device(source: "/dev/null", target: "/dev/null", optional: false))!
        #expect(devIndex < nullIndex)
    }

    @Test func privateHomePersistsUnderDataDir() throws {
        let plan = try MountPlanner.plan(profile: profile(), paths: annPaths, user: ann, host: debianHost)
        #expect(binds(plan).contains { $0 == ("/home/ann/.local/share/sandbox/app/home", "/home/ann", false) })
        #expect(plan.hostDirectories == [HostDirectory(trusted: "/home/ann/.local/share/sandbox/app/home")])
        // The real home is nowhere in the plan.
        #expect(!binds(plan).contains { $0.0 == "/home/ann" })
        // nor is the config dir exposed, so nothing needs protecting
        #expect(!binds(plan).contains { $0.0 == annPaths.configDir })
    }

    @Test func tmpfsHome() throws {
        let plan = try MountPlanner.plan(profile: profile { $0.home.mode = .tmpfs }, paths: annPaths, user: ann, host: debianHost)
        #expect(plan.ops.contains(.tmpfs(target: "/home/ann", options: "mode=0700,uid=1000,gid=1000")))
        #expect(plan.hostDirectories.isEmpty)
    }

    @Test func hostHomeProtectsSandboxConfigAndHidesData() throws {
        let plan = try MountPlanner.plan(profile: profile { $0.home.mode = .host }, paths: annPaths, user: ann, host: debianHost)
        let homeIndex = plan.ops.firstIndex(of: .bind(source: "/home/ann", target: "/home/ann", readonly: false, recursive: true, optional: false))!
        let configIndex = plan.ops.firstIndex(of: .bind(source: annPaths.configDir, target: annPaths.configDir, readonly: true, recursive: true, optional: false))!
        #expect(homeIndex < configIndex)
        // Its ancestors below the home are mount points of their own, so the app cannot
        // rename ~/.config (or ~/.local) away and make a fresh one (issue 9 #7).
        let ancestorIndex = plan.ops.firstIndex(of: .bind(source: "/home/ann/.config", target: "/home/ann/.config", readonly: false, recursive: true, optional: false))
        #expect(ancestorIndex != nil && ancestorIndex! < configIndex)
        #expect(plan.ops.contains(.bind(source: "/home/ann/.local", target: "/home/ann/.local", readonly: false, recursive: true, optional: false)))
        #expect(plan.ops.contains(.bind(source: "/home/ann/.local/share", target: "/home/ann/.local/share", readonly: false, recursive: true, optional: false)))
        // The hidden data directory's mount point is made by the runtime, as the user.
        #expect(plan.hostDirectories.contains(HostDirectory(root: "/home/ann", path: annPaths.dataDir)))
        #expect(plan.notices.contains { $0.contains("no boundary against an app that wants to persist") })
        // ~/.config/sandbox is created below the writable home without following a symlink there.
        #expect(plan.hostDirectories.contains(HostDirectory(root: "/home/ann", path: annPaths.configDir)))
        #expect(plan.ops.contains(.tmpfs(target: annPaths.dataDir, options: "mode=0755,size=16k")))
        #expect(plan.ops.contains(.remountReadonly(target: annPaths.dataDir)))
    }

    @Test func userMountOfConfigParentIsProtectedToo() throws {
        let p = profile { $0.mounts = [Profile.Mount(source: "~/.config", target: "/cfg", readonly: false)] }
        let host = FakeHost(kinds: debianHost.kinds.merging(["/home/ann/.config": .directory]) { $1 }, files: debianHost.files)
        let plan = try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: host)
        #expect(plan.ops.contains(.bind(source: annPaths.configDir, target: "/cfg/sandbox", readonly: true, recursive: true, optional: false)))
    }

    @Test func mountEntriesExpandTildeAndSkipOptionalMissing() throws {
        let p = profile {
            $0.mounts = [Profile.Mount(source: "~/Downloads", target: "~/Downloads", readonly: false),
                         Profile.Mount(source: "~/Missing", target: "/data", readonly: true, optional: true)]
        }
        let plan = try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: debianHost)
        #expect(plan.ops.contains(.bind(source: "/home/ann/Downloads", target: "/home/ann/Downloads", readonly: false, recursive: true, optional: false)))
        #expect(!binds(plan).contains { $0.1 == "/data" })
        // ~/Downloads is a mount point inside the private home: created on the host as the user
        // The mount point inside the private home: trusted down to the home, app-writable below it.
        #expect(plan.hostDirectories == [HostDirectory(trusted: "/home/ann/.local/share/sandbox/app/home"),
                                         HostDirectory(root: "/home/ann/.local/share/sandbox/app/home",
                                                       path: "/home/ann/.local/share/sandbox/app/home/Downloads")])
        #expect(plan.notices.contains { $0.contains("~/Missing") && $0.contains("does not exist") })
    }

    /// Issue 9 #4: the runtime directory holds every container's control socket.
    @Test func aMountExposingTheRuntimeDirectoryIsRefused() throws {
        var host = debianHost
        host.kinds["/run"] = .directory
        host.kinds["/run/user/1000"] = .directory
        host.kinds["/run/user/1000/sandbox"] = .directory
        host.kinds["/run/user/1000/sandbox/other"] = .directory
        host.kinds["/home/ann/rt"] = .symlink("/run/user/1000/sandbox")
        for source in ["/run/user/1000/sandbox", "/run/user/1000/sandbox/", "/run/user/1000", "/run", "/",
                       "/run/user/1000/sandbox/other", "~/rt"] {
            let p = profile { $0.mounts = [Profile.Mount(source: source, target: "/ctl", readonly: true)] }
            do {
                _ = try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: host)
                Issue.record("\(source) was accepted")
            } catch {
                #expect(error.message.contains("[[mount]] #1"))
                #expect(error.message.contains("runtime directory"))
            }
        }
        // A sibling of the runtime directory is fine.
        host.kinds["/run/user/1000/doc"] = .directory
        let ok = profile { $0.mounts = [Profile.Mount(source: "/run/user/1000/doc", target: "/doc")] }
        _ = try MountPlanner.plan(profile: ok, paths: annPaths, user: ann, host: host)
    }

    @Test func missingRequiredMountSourceIsAnError() {
        let p = profile { $0.mounts = [Profile.Mount(source: "/nope", target: "/data")] }
        #expect(throws: SandboxError.self) { try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: debianHost) }
        do {
            _ = try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: debianHost)
        } catch {
            #expect(error.message.contains("[[mount]] #1"))
            #expect(error.message.contains("/nope"))
            #expect(error.hint?.contains("optional = true") == true)
        }
    }

    @Test func mountTargetWithDotDotIsRejected() {
        let p = profile { $0.mounts = [Profile.Mount(source: "/usr", target: "/home/../etc")] }
        #expect(throws: SandboxError.self) { try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: debianHost) }
    }

    @Test func imageRootfsMissingSaysHowToCreateIt() {
        let p = profile { $0.rootfs.mode = .image }
        do {
            _ = try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: debianHost)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("/home/ann/.local/share/sandbox/app/rootfs"))
            #expect(error.hint?.contains("sandbox create app") == true)
        }
    }

    @Test func imageRootfsIsBoundAsRootAndNotRemountedReadOnly() throws {
        var kinds = debianHost.kinds
        kinds["/srv/img"] = .directory
        let host = FakeHost(kinds: kinds, files: ["/srv/img/etc/passwd": "root:x:0:0:root:/root:/bin/bash\n"])
        let p = profile { $0.rootfs.mode = .image; $0.rootfs.path = "/srv/img" }
        let plan = try MountPlanner.plan(profile: p, paths: annPaths, user: ann, host: host)
        #expect(plan.ops.first == .bind(source: "/srv/img", target: "/", readonly: false, recursive: true, optional: false))
        #expect(plan.ops.last != .remountReadonly(target: "/"))
        guard case let .file(_, passwd, _)? = plan.ops.first(where: { if case .file("/etc/passwd", _, _) = $0 { true } else { false } }) else {
            Issue.record("no passwd"); return
        }
        #expect(passwd == "root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\n")
    }

    /// Issue 10 #1: an image that names the user (`create` adds it) keeps its own,
    /// writable account files, so container root can add users.
    @Test func anImageThatNamesTheUserKeepsItsOwnAccountFiles() throws {
        var kinds = debianHost.kinds
        kinds["/srv/img"] = .directory
        let host = FakeHost(kinds: kinds, files: [
            "/srv/img/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\n",
            "/srv/img/etc/group": "root:x:0:\nann:x:1000:\n"])
        let plan = try MountPlanner.plan(profile: profile { $0.rootfs.mode = .image; $0.rootfs.path = "/srv/img" },
                                         paths: annPaths, user: ann, host: host)
        #expect(!plan.ops.contains { if case .file("/etc/passwd", _, _) = $0 { true } else { false } })
        #expect(!plan.ops.contains { if case .file("/etc/group", _, _) = $0 { true } else { false } })
        // The host rootfs always gets generated ones (the host's accounts are not the app's).
        let hostPlan = try MountPlanner.plan(profile: profile(), paths: annPaths, user: ann, host: debianHost)
        #expect(hostPlan.ops.contains { if case .file("/etc/passwd", _, _) = $0 { true } else { false } })
    }

    @Test func passwdAndGroupNameThePassthroughUserOnly() throws {
        let plan = try MountPlanner.plan(profile: profile(), paths: annPaths, user: ann, host: debianHost)
        var passwd = "", group = ""
        for op in plan.ops {
            if case let .file("/etc/passwd", c, 0o644) = op { passwd = c }
            if case let .file("/etc/group", c, 0o644) = op { group = c }
        }
        #expect(passwd.contains("ann:x:1000:1000::/home/ann:/bin/bash\n"))
        #expect(passwd.contains("_apt:x:42:"))
        #expect(!passwd.contains("bob"))           // other host users stay unknown inside
        #expect(group.contains("ann:x:1000:\n"))
        #expect(group.contains("video:x:44:\n"))   // member lists dropped
        #expect(!group.contains("bob"))
    }

    @Test func launchPlanKeepsVisibleWorkingDirectoryElseHome() throws {
        let idmap = IDMapPlan(uidMap: [IDMapping(inside: 1000, outside: 1000, count: 1)], gidMap: [IDMapping(inside: 1000, outside: 1000, count: 1)], notices: [])
        let p = profile { $0.home.mode = .host; $0.command = ["app"]; $0.env = ["A": "1"] }
        let inHome = try LaunchPlanner.plan(profile: p, paths: annPaths, user: ann, idmap: idmap, extraArgs: ["--x"],
                                            hostEnvironment: ["TERM": "xterm", "SECRET": "s"], hostWorkingDirectory: "/home/ann/src", host: debianHost)
        #expect(inHome.workingDirectory == "/home/ann/src")
        #expect(inHome.argv == ["app", "--x"])
        #expect(inHome.environment.contains("TERM=xterm"))
        #expect(inHome.environment.contains("A=1"))
        #expect(!inHome.environment.contains { $0.hasPrefix("SECRET=") })
        let elsewhere = try LaunchPlanner.plan(profile: p, paths: annPaths, user: ann, idmap: idmap,
                                               hostWorkingDirectory: "/srv/x", host: debianHost)
        #expect(elsewhere.workingDirectory == "/home/ann")
        let privateHome = try LaunchPlanner.plan(profile: profile(), paths: annPaths, user: ann, idmap: idmap,
                                                 hostWorkingDirectory: "/home/ann/src", host: debianHost)
        #expect(privateHome.workingDirectory == "/home/ann")
    }

    @Test func mountsAddedByOtherPlannersComeBeforeTheReadOnlyRoot() throws {
        let idmap = IDMapPlan(uidMap: [], gidMap: [], notices: [])
        var plan = try LaunchPlanner.plan(profile: profile(), paths: annPaths, user: ann, idmap: idmap, host: debianHost)
        plan.addMounts([.device(source: "/dev/dri", target: "/dev/dri", optional: true)])
        #expect(plan.mounts.last == .remountReadonly(target: "/"))
        #expect(plan.mounts[plan.mounts.count - 2] == .device(source: "/dev/dri", target: "/dev/dri", optional: true))
    }

    @Test func hostNetworkModeKeepsTheHostNetns() throws {
        let idmap = IDMapPlan(uidMap: [], gidMap: [], notices: [])
        let plan = try LaunchPlanner.plan(profile: profile { $0.network.mode = .host }, paths: annPaths, user: ann, idmap: idmap, host: debianHost)
        #expect(!plan.namespaces.contains(.net))
        #expect(plan.namespaces.contains(.user))
    }
}

@Suite struct KeptGroupNames {
    func group(_ plan: MountPlan) -> String {
        for op in plan.ops { if case let .file("/etc/group", c, _) = op { return c } }
        return ""
    }

    @Test func keptGroupsListTheUserAsMemberAndTakeHostNames() throws {
        var host = debianHost
        host.files["/etc/group"]! += "sbxvideo:x:4044:ann\n"
        let plan = try MountPlanner.plan(profile: profile(), paths: annPaths, user: ann, host: host, keptGroups: [44, 4044])
        let g = group(plan)
        #expect(g.contains("video:x:44:ann\n"))
        #expect(g.contains("sbxvideo:x:4044:ann\n"))
        #expect(!g.contains("bob"))
        // An image's group file lacks the host group: its name comes from the host's.
        var imageHost = host
        imageHost.kinds["/srv/img"] = .directory
        imageHost.files["/srv/img/etc/group"] = "root:x:0:\nvideo:x:44:\n"
        let image = try MountPlanner.plan(profile: profile { $0.rootfs.mode = .image; $0.rootfs.path = "/srv/img" },
                                          paths: annPaths, user: ann, host: imageHost, keptGroups: [44, 4044, 5000])
        let ig = group(image)
        #expect(ig == "root:x:0:\nvideo:x:44:ann\nann:x:1000:\nsbxvideo:x:4044:ann\n5000:x:5000:ann\n")
    }

    @Test func launchPlanKeepsTheMappedGroups() throws {
        let idmap = IDMapPlanner.plan(settings: .init(), uid: 1000, gid: 1000, userName: "ann",
                                      subuid: [SubordinateIDRange(start: 100000, count: 65536)],
                                      subgid: [SubordinateIDRange(start: 100000, count: 65536), SubordinateIDRange(start: 44, count: 1)],
                                      groups: [44, 29])
        let plan = try LaunchPlanner.plan(profile: profile(), paths: annPaths, user: ann, idmap: idmap, host: debianHost)
        #expect(plan.supplementaryGroups == [44])
        #expect(plan.setgroupsAllowed)
    }
}

/// Issue 9 #3 (a): the runtime's mkdir below an app-writable root follows no symlink.
@Suite struct HostDirectoryCreationTests {
    @Test func aSymlinkPlantedBelowTheRootIsRefusedNotFollowed() throws {
        let base = "/tmp/sandbox-hostdir-\(getpid())"
        let home = base + "/home", profiles = base + "/config/sandbox/profiles"
        try HostFile.makeDirectories(home, mode: 0o700)
        try HostFile.makeDirectories(profiles, mode: 0o700)
        defer {
            for d in [home + "/Downloads/x", home + "/Downloads", profiles, base + "/config/sandbox", base + "/config"] { rmdir(d) }
            unlink(home + "/media"); rmdir(home); rmdir(base)
        }
        // The app turned ~/media into a link to the user's sandbox configuration.
        #expect(symlink(profiles, home + "/media") == 0)
        do throws(SandboxError) {
            try HostFile.makeDirectories(HostDirectory(root: home, path: home + "/media/music"), mode: 0o700)
            Issue.record("the planted symlink was followed")
        } catch {
            #expect(error.message.contains("\(home)/media is a symlink"))
        }
        #expect(access(profiles + "/music", F_OK) != 0, "a directory appeared in the profiles directory")
        // A plain path below the root is created as before, and again without complaint.
        try HostFile.makeDirectories(HostDirectory(root: home, path: home + "/Downloads/x"), mode: 0o700)
        try HostFile.makeDirectories(HostDirectory(root: home, path: home + "/Downloads/x"), mode: 0o700)
        var st = stat()
        #expect(lstat(home + "/Downloads/x", &st) == 0 && st.st_mode & S_IFMT == S_IFDIR)
    }
}
