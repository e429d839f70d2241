// The plan crosses a process boundary once, as data: the launcher encodes what
// it planned, the supervisor decodes it (and records it, so joins read what the
// container really runs instead of re-planning from a profile that may have
// changed). The format is versioned, little-endian, length-prefixed, and every
// read is bounds-checked: a damaged or hostile file is a `PlanDecodingError`,
// never a crash or an unbounded allocation.
//
//   "SBXPLAN" u8 version | fields in the order of `encode` below
//   string = u32 length + UTF-8 bytes; array = u32 count + elements; bool = u8 0/1

/// What a container's supervisor is given: the plan and how to run it.
public struct SupervisorPlan: Sendable, Equatable {
    public var plan: LaunchPlan
    /// Kept with no client until `sandbox stop` (`sandbox start`).
    public var persistent: Bool
    /// $XDG_RUNTIME_DIR/sandbox: state, control sockets, locks.
    public var runtimeDir: String
    /// The profile file and its fingerprint at start (to say a change applies at the next start).
    public var profilePath: String
    public var profileFingerprint: String
    /// Host-side network set-up the supervisor performs before releasing the container.
    public var network: NetworkAttachment
    /// The launcher's -l / -o.
    public var logLevel: String
    public var logFile: String?

    public init(plan: LaunchPlan, persistent: Bool, runtimeDir: String, profilePath: String, profileFingerprint: String,
                network: NetworkAttachment = .none, logLevel: String = "notice", logFile: String? = nil) {
        self.plan = plan
        self.persistent = persistent
        self.runtimeDir = runtimeDir
        self.profilePath = profilePath
        self.profileFingerprint = profileFingerprint
        self.network = network
        self.logLevel = logLevel
        self.logFile = logFile
    }
}

/// How the container's network namespace is connected on the host side.
public enum NetworkAttachment: Sendable, Equatable {
    /// Nothing (network.mode none: loopback only; host: no namespace).
    case none
    /// A veth pair into `bridge` through the setuid `sandbox-net` at `helper`.
    case veth(bridge: String, helper: String)
    /// pasta with these extra arguments; its pid is recorded in `pidFile`.
    case pasta(pidFile: String, arguments: [String])
}

public struct PlanDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "damaged plan at byte \(offset): \(reason)" }
}

public enum PlanCodec {
    static let magic: [UInt8] = Array("SBXPLAN".utf8)
    /// Bump on any change of the field order or meaning. 2: LaunchPlan.x11. 6: LaunchPlan.dbus.
    public static let version: UInt8 = 7
    /// Upper bounds that no real plan reaches; they stop a hostile length from allocating.
    static let maxString = 1 << 20
    static let maxCount = 1 << 16
    public static let maxPlan = 16 << 20

    public static func encode(_ s: SupervisorPlan) -> [UInt8] {
        var w = Writer()
        w.bytes(magic)
        w.u8(version)
        let p = s.plan
        w.string(p.name)
        w.u32(p.namespaces.rawValue)
        w.string(p.hostname)
        w.mappings(p.uidMap)
        w.mappings(p.gidMap)
        w.u32(UInt32(p.mounts.count))
        for op in p.mounts { w.mount(op) }
        w.strings(p.command)
        w.strings(p.argv)
        w.strings(p.environment)
        w.string(p.workingDirectory)
        w.u32(p.uid)
        w.u32(p.gid)
        w.u32(UInt32(p.supplementaryGroups.count))
        for g in p.supplementaryGroups { w.u32(g) }
        w.strings(p.notices)
        w.strings(p.onceNotices)
        w.blob(p.seccompFilter)
        w.u32(UInt32(clamping: p.stopTimeout))
        w.u32(UInt32(clamping: p.processLimit))
        w.u32(UInt32(p.hostDirectories.count))
        for d in p.hostDirectories { w.string(d.root); w.string(d.path) }
        w.u32(UInt32(p.visiblePaths.count))
        for v in p.visiblePaths { w.string(v.host); w.string(v.container) }
        w.string(p.home)
        if let sound = p.sound {
            w.u8(1); w.string(sound.socketPath); w.string(sound.upstream); w.bool(sound.microphone)
        } else {
            w.u8(0)
        }
        w.bool(p.x11 != nil)
        if let x = p.x11 {
            w.u32(x.display); w.string(x.serverSocket); w.string(x.proxySocket)
            w.string(x.userXauthority); w.string(x.containerXauthority); w.bool(x.trusted); w.bool(x.required)
        }
        w.bool(p.dbus != nil)
        if let d = p.dbus {
            w.string(d.proxy); w.string(d.appID); w.string(d.identity); w.bool(d.log); w.optionalString(d.documents)
            w.string(d.handOver.rawValue)
            for bus in [d.session, d.system] {
                w.bool(bus != nil)
                if let bus {
                    w.string(bus.upstream); w.string(bus.socketPath)
                    for list in [bus.rules.talk, bus.rules.own, bus.rules.see, bus.rules.call, bus.rules.broadcast] { w.strings(list) }
                }
            }
        }
        w.bool(s.persistent)
        w.string(s.runtimeDir)
        w.string(s.profilePath)
        w.string(s.profileFingerprint)
        switch s.network {
        case .none: w.u8(0)
        case .veth(let bridge, let helper): w.u8(1); w.string(bridge); w.string(helper)
        case .pasta(let pidFile, let arguments): w.u8(2); w.string(pidFile); w.strings(arguments)
        }
        w.string(s.logLevel)
        w.optionalString(s.logFile)
        return w.out
    }

    public static func decode(_ bytes: [UInt8]) throws(PlanDecodingError) -> SupervisorPlan {
        var r = Reader(bytes: bytes)
        guard bytes.count <= maxPlan else { throw PlanDecodingError(offset: 0, reason: "larger than \(maxPlan) bytes") }
        guard Array(try r.take(magic.count)) == magic else { throw PlanDecodingError(offset: 0, reason: "not a sandbox plan") }
        let v = try r.u8()
        guard v == version else { throw PlanDecodingError(offset: magic.count, reason: "version \(v), this build reads \(version)") }
        var p = LaunchPlan(name: try r.string(), hostname: "")
        p.namespaces = NamespaceSet(rawValue: try r.u32())
        p.hostname = try r.string()
        p.uidMap = try r.mappings()
        p.gidMap = try r.mappings()
        p.mounts = try r.array { r throws(PlanDecodingError) in try r.mount() }
        p.command = try r.strings()
        p.argv = try r.strings()
        p.environment = try r.strings()
        p.workingDirectory = try r.string()
        p.uid = try r.u32()
        p.gid = try r.u32()
        p.supplementaryGroups = try r.array { r throws(PlanDecodingError) in try r.u32() }
        p.notices = try r.strings()
        p.onceNotices = try r.strings()
        p.seccompFilter = try r.blob()
        p.stopTimeout = Int(try r.u32())
        p.processLimit = Int(try r.u32())
        p.hostDirectories = try r.array { r throws(PlanDecodingError) in HostDirectory(root: try r.string(), path: try r.string()) }
        p.visiblePaths = try r.array { r throws(PlanDecodingError) in (host: try r.string(), container: try r.string()) }
        p.home = try r.string()
        if try r.bool() {
            p.sound = SoundMediation(socketPath: try r.string(), upstream: try r.string(), microphone: try r.bool())
        }
        if try r.bool() {
            p.x11 = X11Mediation(display: try r.u32(), serverSocket: try r.string(), proxySocket: try r.string(),
                                 userXauthority: try r.string(), containerXauthority: try r.string(),
                                 trusted: try r.bool(), required: try r.bool())
        }
        if try r.bool() {
            let proxy = try r.string(), appID = try r.string(), identity = try r.string(), log = try r.bool()
            let documents = try r.optionalString()
            let handOverText = try r.string()
            guard let handOver = FileHandOverMode(rawValue: handOverText) else {
                throw PlanDecodingError(offset: r.offset, reason: "unknown file hand-over mode '\(handOverText)'")
            }
            var buses: [DBusProxiedBus?] = []
            for _ in 0..<2 {
                guard try r.bool() else { buses.append(nil); continue }
                let upstream = try r.string(), socketPath = try r.string()
                let rules = DBusRules(talk: try r.strings(), own: try r.strings(), see: try r.strings(),
                                      call: try r.strings(), broadcast: try r.strings())
                buses.append(DBusProxiedBus(upstream: upstream, socketPath: socketPath, rules: rules))
            }
            p.dbus = DBusMediation(proxy: proxy, appID: appID, session: buses[0], system: buses[1], identity: identity, log: log, documents: documents)
            p.dbus?.handOver = handOver
        }
        let persistent = try r.bool()
        let runtimeDir = try r.string()
        let profilePath = try r.string()
        let fingerprint = try r.string()
        let network: NetworkAttachment
        switch try r.u8() {
        case 0: network = .none
        case 1: network = .veth(bridge: try r.string(), helper: try r.string())
        case 2: network = .pasta(pidFile: try r.string(), arguments: try r.strings())
        case let k: throw r.error("unknown network attachment \(k)")
        }
        let level = try r.string()
        let logFile = try r.optionalString()
        guard r.offset == bytes.count else { throw r.error("\(bytes.count - r.offset) bytes after the end") }
        return SupervisorPlan(plan: p, persistent: persistent, runtimeDir: runtimeDir, profilePath: profilePath,
                              profileFingerprint: fingerprint, network: network,
                              logLevel: level, logFile: logFile)
    }

    package struct Writer {
        package init() {}
        package var out: [UInt8] = []
        package mutating func bytes(_ b: [UInt8]) { out += b }
        package mutating func u8(_ v: UInt8) { out.append(v) }
        package mutating func bool(_ v: Bool) { out.append(v ? 1 : 0) }
        package mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        package mutating func blob(_ b: [UInt8]) { u32(UInt32(b.count)); out += b }
        package mutating func string(_ s: String) { blob(Array(s.utf8)) }
        package mutating func optionalString(_ s: String?) {
            if let s { u8(1); string(s) } else { u8(0) }
        }
        package mutating func strings(_ a: [String]) { u32(UInt32(a.count)); for s in a { string(s) } }
        package mutating func mappings(_ m: [IDMapping]) {
            u32(UInt32(m.count))
            for x in m { u32(x.inside); u32(x.outside); u32(x.count) }
        }
        package mutating func mount(_ op: MountOp) {
            switch op {
            case let .bind(source, target, readonly, recursive, optional):
                u8(1); string(source); string(target); bool(readonly); bool(recursive); bool(optional)
            case let .device(source, target, optional): u8(2); string(source); string(target); bool(optional)
            case let .tmpfs(target, options): u8(3); string(target); string(options)
            case let .proc(target): u8(4); string(target)
            case let .devpts(target): u8(5); string(target)
            case let .mkdir(path, mode): u8(6); string(path); u32(mode)
            case let .symlink(target, path): u8(7); string(target); string(path)
            case let .file(path, contents, mode): u8(8); string(path); string(contents); u32(mode)
            case let .remountReadonly(target): u8(9); string(target)
            case let .userBind(source, target, optional): u8(10); string(source); string(target); bool(optional)
            }
        }
    }

    package struct Reader {
        package init(bytes: [UInt8]) { self.bytes = bytes }
        let bytes: [UInt8]
        package var offset = 0

        package func error(_ reason: String) -> PlanDecodingError { PlanDecodingError(offset: offset, reason: reason) }

        package mutating func take(_ n: Int) throws(PlanDecodingError) -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - offset else { throw error("truncated (\(n) bytes wanted, \(bytes.count - offset) left)") }
            defer { offset += n }
            return bytes[offset..<offset + n]
        }
        package mutating func u8() throws(PlanDecodingError) -> UInt8 { try take(1).first! }
        package mutating func bool() throws(PlanDecodingError) -> Bool {
            switch try u8() {
            case 0: return false
            case 1: return true
            case let b: throw error("\(b) is not a boolean")
            }
        }
        package mutating func u32() throws(PlanDecodingError) -> UInt32 {
            var v: UInt32 = 0
            for (i, b) in try take(4).enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
            return v
        }
        package mutating func count(limit: Int) throws(PlanDecodingError) -> Int {
            let n = Int(try u32())
            guard n <= limit else { throw error("length \(n) exceeds \(limit)") }
            return n
        }
        package mutating func blob() throws(PlanDecodingError) -> [UInt8] { Array(try take(try count(limit: PlanCodec.maxString))) }
        package mutating func string() throws(PlanDecodingError) -> String {
            let start = offset
            let raw = try blob()
            guard let s = String(validating: raw, as: UTF8.self) else { throw PlanDecodingError(offset: start, reason: "invalid UTF-8") }
            // The C side takes these as NUL-terminated strings: an embedded NUL would cut them.
            guard !raw.contains(0) else { throw PlanDecodingError(offset: start, reason: "a string holds a NUL byte") }
            return s
        }
        package mutating func optionalString() throws(PlanDecodingError) -> String? { try bool() ? try string() : nil }
        package mutating func array<T>(_ element: (inout Reader) throws(PlanDecodingError) -> T) throws(PlanDecodingError) -> [T] {
            let n = try count(limit: PlanCodec.maxCount)
            var out: [T] = []
            out.reserveCapacity(min(n, 1024))
            for _ in 0..<n { out.append(try element(&self)) }
            return out
        }
        package mutating func strings() throws(PlanDecodingError) -> [String] { try array { r throws(PlanDecodingError) in try r.string() } }
        package mutating func mappings() throws(PlanDecodingError) -> [IDMapping] {
            try array { r throws(PlanDecodingError) in IDMapping(inside: try r.u32(), outside: try r.u32(), count: try r.u32()) }
        }
        package mutating func mount() throws(PlanDecodingError) -> MountOp {
            switch try u8() {
            case 1: return .bind(source: try string(), target: try string(), readonly: try bool(), recursive: try bool(), optional: try bool())
            case 2: return .device(source: try string(), target: try string(), optional: try bool())
            case 3: return .tmpfs(target: try string(), options: try string())
            case 4: return .proc(target: try string())
            case 5: return .devpts(target: try string())
            case 6: return .mkdir(path: try string(), mode: try u32())
            case 7: return .symlink(target: try string(), path: try string())
            case 8: return .file(path: try string(), contents: try string(), mode: try u32())
            case 9: return .remountReadonly(target: try string())
            case 10: return .userBind(source: try string(), target: try string(), optional: try bool())
            case let k: throw error("unknown mount step kind \(k)")
            }
        }
    }
}
