// Runtime state of running containers: $XDG_RUNTIME_DIR/sandbox/NAME/{state,plan,control.sock}.
// A lock per container name ($XDG_RUNTIME_DIR/sandbox/NAME.lock) serialises its
// start, join and clean-up, so two launchers never start the same container
// twice, while a slow start of one app never holds up another. A state
// file is trusted only while its init pid still has the recorded start time;
// otherwise it is stale (a crash, a reboot) and removed.
import CSandboxSpawn
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// The `state` file: key=value lines.
public struct ContainerState: Sendable, Equatable {
    public var name: String
    public var initPid: Int32
    public var initStartTime: UInt64
    public var supervisorPid: Int32
    public var supervisorStartTime: UInt64
    public var persistent: Bool
    public var profilePath: String
    /// A fingerprint of the profile the container started with (to say "changed, applies at next start").
    public var profileFingerprint: String
    public var startedAt: Int

    public init(name: String, initPid: Int32, initStartTime: UInt64, supervisorPid: Int32, supervisorStartTime: UInt64,
                persistent: Bool, profilePath: String, profileFingerprint: String, startedAt: Int) {
        self.name = name
        self.initPid = initPid
        self.initStartTime = initStartTime
        self.supervisorPid = supervisorPid
        self.supervisorStartTime = supervisorStartTime
        self.persistent = persistent
        self.profilePath = profilePath
        self.profileFingerprint = profileFingerprint
        self.startedAt = startedAt
    }

    public static let version = 1

    public func serialized() -> String {
        """
        version=\(Self.version)
        name=\(name)
        init_pid=\(initPid)
        init_start=\(initStartTime)
        supervisor_pid=\(supervisorPid)
        supervisor_start=\(supervisorStartTime)
        persistent=\(persistent ? 1 : 0)
        profile=\(profilePath)
        profile_fingerprint=\(profileFingerprint)
        started_at=\(startedAt)

        """
    }

    /// Parses a state file; nil when it is damaged or from another version (treated as stale).
    public static func parse(_ text: String) -> ContainerState? {
        var kv: [String: String] = [:]
        for line in text.byteSplit("\n") {
            guard let eq = line.utf8.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            kv[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard kv["version"] == String(version), let name = kv["name"], !name.isEmpty,
              let ip = kv["init_pid"].flatMap(Int32.init), ip > 0,
              let ist = kv["init_start"].flatMap(UInt64.init),
              let sp = kv["supervisor_pid"].flatMap(Int32.init),
              let sst = kv["supervisor_start"].flatMap(UInt64.init),
              let pers = kv["persistent"], pers == "0" || pers == "1",
              let profile = kv["profile"], let fp = kv["profile_fingerprint"],
              let started = kv["started_at"].flatMap(Int.init)
        else { return nil }
        return ContainerState(name: name, initPid: ip, initStartTime: ist, supervisorPid: sp, supervisorStartTime: sst,
                              persistent: pers == "1", profilePath: profile, profileFingerprint: fp, startedAt: started)
    }

    /// True while the recorded init still runs (same pid, same start time).
    public func isAlive(startTimeOf: (Int32) -> UInt64? = processStartTime) -> Bool {
        startTimeOf(initPid) == initStartTime
    }
}

/// The fingerprint of the profile file as it is now (to compare with the recorded one).
public func profileFingerprint(path: String) -> String {
    ProfileFingerprint.of((try? HostFile.readBytes(path).get()) ?? [])
}

/// What the runtime directory says about one container.
public enum ContainerStatus: Sendable, Equatable {
    case notRunning
    case running(ContainerState)
    /// A state directory whose init is gone (or that cannot be read).
    case stale
}

/// The runtime directory and its lock.
public struct ContainerDirectory: Sendable {
    public var root: String
    public init(paths: Paths) { root = paths.runtimeDir }
    public init(root: String) { self.root = root }

    public func stateDir(_ name: String) -> String { root + "/" + name }
    public func stateFile(_ name: String) -> String { stateDir(name) + "/state" }
    public func controlSocket(_ name: String) -> String { stateDir(name) + "/control.sock" }
    /// The encoded SupervisorPlan the container runs (joins read it instead of the profile).
    public func planFile(_ name: String) -> String { stateDir(name) + "/plan" }
    func lockFile(_ name: String) -> String { root + "/" + name + ".lock" }

    /// The plan a running container was started with; nil if it has none or it is damaged.
    public func recordedPlan(_ name: String) -> SupervisorPlan? {
        guard let bytes = try? HostFile.readBytes(planFile(name), limit: PlanCodec.maxPlan).get() else { return nil }
        return try? PlanCodec.decode(bytes)
    }

    /// Takes container `name`'s exclusive lock (creating the runtime directory, 0700);
    /// released when the fd closes. Other containers are not held up.
    public func lock(_ name: String) throws -> OwnedFD {
        try checkRuntimeDirectory()
        let fd = open(lockFile(name), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SandboxError.system("cannot open \(lockFile(name))", errno: errno) }
        let owned = OwnedFD(fd)
        if retryingEINTR({ flock(fd, LOCK_EX) }) < 0 {
            throw SandboxError.system("cannot lock \(lockFile(name))", errno: errno)
        }
        return owned
    }

    /// Creates the runtime directory (0700) and checks nobody else can write it.
    func checkRuntimeDirectory() throws {
        do { try HostFile.makeDirectories(root, mode: 0o700) } catch {
            throw SandboxError.wrapping(error, "the runtime directory", hint: "check XDG_RUNTIME_DIR is set to a directory you own")
        }
        // Control sockets and state live here: another user must not own or be able to
        // write it (the /tmp fallback without XDG_RUNTIME_DIR could be pre-created by anyone).
        for dir in [root, HostFile.dirname(root)] {
            var st = stat()
            guard lstat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == getuid(),
                  st.st_mode & 0o022 == 0 else {
                throw SandboxError("\(dir) is not a private directory of yours (it must be owned by uid \(getuid()) and not writable by others)",
                                   hint: "set XDG_RUNTIME_DIR to your own 0700 runtime directory (usually /run/user/\(getuid()))")
            }
        }
    }


    public func status(_ name: String) -> ContainerStatus {
        var st = stat()
        guard lstat(stateDir(name), &st) == 0 else { return .notRunning }
        guard let text = HostFile.read(stateFile(name)), let state = ContainerState.parse(text), state.name == name else {
            return .stale
        }
        return state.isAlive() ? .running(state) : .stale
    }

    /// Writes the state file atomically (rename over).
    public func write(_ state: ContainerState) throws {
        try HostFile.writeAtomically(state.serialized(), to: stateFile(state.name), mode: 0o600, durable: false)
    }

    /// Removes a container's state directory and what is in it (files and the
    /// mediators' subdirectories; no mounts live here), never following a symlink.
    public func remove(_ name: String) {
        for problem in TreeRemoval.remove(name, in: root) {
            log.debug("\(name): removing the state directory: \(problem)")
        }
    }

    /// Names with a state directory, sorted.
    public func names() -> [String] {
        guard let d = opendir(root) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n == "." || n == ".." { continue }
            if e.pointee.d_type == UInt8(DT_DIR) { out.append(n) }
        }
        return out.sorted()
    }
}
