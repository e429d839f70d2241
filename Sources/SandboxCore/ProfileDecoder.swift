// Turns a merged TOML tree into a typed Profile, collecting one ProfileError per
// problem (never stopping at the first), each pointing at the file, line and key
// where the bad value was written. The key names here are the schema: the man
// page (Docs/man/sandbox-profile.5) and the emitter follow them.

/// The keys each table accepts; unknown keys get a did-you-mean from these.
enum ProfileSchema {
    static let topLevel = ["description", "include", "command", "rootfs", "home", "idmap", "devices", "x11", "pulse",
                           "wayland", "network", "dbus", "files", "env", "mount", "seccomp", "session", "limits", "image", "desktop"]
    static let tables: [String: [String]] = [
        "rootfs": ["mode", "path"],
        "home": ["mode"],
        "idmap": ["passthrough", "uid", "gid"],
        "devices": ["dri", "snd", "video", "extra", "required"],
        "x11": ["mode", "required"],
        "pulse": ["mode", "required", "microphone"],
        "wayland": ["enabled"],
        "network": ["mode", "bridge", "inbound_tcp", "inbound_udp", "host_loopback_tcp", "host_loopback_udp"],
        "dbus": ["mode", "talk", "own", "see", "call", "broadcast", "system"],
        "files": ["hand_over"],
        "dbus.system": ["talk", "own", "see", "call", "broadcast"],
        "mount": ["source", "target", "readonly", "optional"],
        "seccomp": ["profile", "allow_userns", "multiarch", "allow", "deny"],
        "session": ["stop_timeout"],
        "limits": ["processes"],
        "image": ["distro", "release", "arch", "variant", "components", "foreign_architectures", "packages", "sources", "keys", "key_fingerprints"],
        "desktop": ["name", "icon", "comment", "categories", "mime_types"],
    ]
    static let userConfig = ["bridge", "data_dir", "stop_timeout"]

    static let stopTimeoutRange = 0...3600
    /// Tasks (processes and threads) per user inside one container. The floor keeps
    /// a shell and a few tools working; the ceiling is the kernel's pid_max limit.
    static let processesRange = 16...4_194_304
    static let distros = ["debian", "ubuntu"]
    static let debianArchitectures = ["amd64", "arm64", "armel", "armhf", "i386", "mips64el", "mipsel", "ppc64el", "riscv64", "s390x"]
    static let variants = ["extract", "custom", "essential", "apt", "required", "minbase", "buildd", "important", "debootstrap", "standard"]
}

/// What validation needs to know about the person who will run the profile.
struct ValidationContext: Sendable {
    var user: UserIdentity
    var subuidFile: String
    var subgidFile: String

    /// The user's delegated ranges of `kind`. Read only for a profile that writes its
    /// own [idmap] lines: a start reads /etc/subuid and /etc/subgid once, to plan.
    func delegated(_ kind: IDKind) -> [SubordinateIDRange] {
        guard case .success(let text) = ProfileFiles.readText(kind == .uid ? subuidFile : subgidFile) else { return [] }
        return SubordinateIDs.parse(contents: text, user: user.name, uid: user.uid)
    }
}

struct ProfileDecoder {
    var errors: [ProfileError] = []
    let context: ValidationContext

    init(context: ValidationContext) { self.context = context }

    // MARK: Profile

    mutating func decodeProfile(_ root: TOMLNode, into p: inout Profile) {
        guard let entries = root.entries else { return }
        checkKeys(root, known: ProfileSchema.topLevel, tableName: nil)
        if let v = string(root, "description") { p.description = v }
        if let n = root["command"] { p.command = command(n) }
        for entry in entries {
            let n = entry.node
            switch entry.key {
            case "rootfs": decodeRootFS(n, &p.rootfs)
            case "home": if let t = table(n, "home"), let v: Profile.Home.Mode = choice(t, "mode", what: "home mode") { p.home.mode = v }
            case "idmap": decodeIDMap(n, &p.idmap)
            case "devices": decodeDevices(n, &p.devices)
            case "x11":
                if let t = table(n, "x11") {
                    if let v: Profile.X11.Mode = choice(t, "mode", what: "x11 mode") { p.x11.mode = v }
                    if let v = bool(t, "required") { p.x11.required = v }
                }
            case "pulse":
                if let t = table(n, "pulse") {
                    if let v: Profile.Pulse.Mode = choice(t, "mode", what: "pulse mode") { p.pulse.mode = v }
                    if let v = bool(t, "required") { p.pulse.required = v }
                    if let v = bool(t, "microphone") { p.pulse.microphone = v }
                }
            case "wayland": if let t = table(n, "wayland"), let v = bool(t, "enabled") { p.wayland.enabled = v }
            case "network": decodeNetwork(n, &p.network)
            case "dbus": decodeDBus(n, &p.dbus)
            case "files":
                if let t = table(n, "files"),
                   let v = word(t, "hand_over", from: FileHandOverMode.allCases.map(\.rawValue), what: "files hand_over") {
                    p.files.handOver = FileHandOverMode(rawValue: v)!
                }
            case "env": p.env = decodeEnv(n)
            case "mount": p.mounts = decodeMounts(n)
            case "seccomp": decodeSeccomp(n, &p.seccomp)
            case "session":
                if let t = table(n, "session"), let v = stopTimeout(t) { p.session.stopTimeout = v }
            case "limits":
                if let t = table(n, "limits"), let node = t["processes"], let v = int(t, "processes") {
                    if ProfileSchema.processesRange.contains(v) {
                        p.limits.processes = v
                    } else {
                        fail(.badValue, node, "processes \(v) is out of range",
                             hint: "tasks (processes and threads) the app may run, \(ProfileSchema.processesRange.lowerBound)–\(ProfileSchema.processesRange.upperBound); a browser runs a few thousand")
                    }
                }
            case "image": decodeImage(n, &p.image)
            case "desktop": decodeDesktop(n, &p.desktop)
            default: break
            }
        }
    }

    mutating func command(_ n: TOMLNode) -> [String] {
        guard case .array(let items) = n.value else {
            var hint = "write command = [\"program\", \"--flag\"]"
            if case .string(let s) = n.value {
                hint = "write command = [" + s.split(separator: " ").map { TOMLEmitter.quoted(String($0)) }.joined(separator: ", ") + "]"
            }
            fail(.wrongType, n, "command must be an array of strings (argv), found \(n.typeName)", hint: hint)
            return []
        }
        if items.isEmpty {
            fail(.badValue, n, "command is empty", hint: "name the program to run, e.g. command = [\"xeyes\"], or remove the key")
            return []
        }
        var argv: [String] = []
        for item in items {
            guard case .string(let s) = item.value else {
                fail(.wrongType, item, "command elements must be strings, found \(item.typeName) \(item.shortText)", hint: "quote it")
                continue
            }
            if argv.isEmpty && s.isEmpty {
                fail(.badValue, item, "the program name (first element of command) is empty")
            }
            if s.utf8.contains(0) { fail(.badValue, item, "command elements cannot contain NUL bytes") }
            argv.append(s)
        }
        return argv
    }

    mutating func decodeRootFS(_ n: TOMLNode, _ r: inout Profile.RootFS) {
        guard let t = table(n, "rootfs") else { return }
        if let v: Profile.RootFS.Mode = choice(t, "mode", what: "rootfs mode") { r.mode = v }
        if let pathNode = t["path"], let v = string(t, "path") {
            if let problem = PathRules.hostPathProblem(v) {
                fail(.badValue, pathNode, "rootfs path \(TOMLEmitter.quoted(v)) \(problem)")
            } else if r.mode != .image {
                fail(.badValue, pathNode, "rootfs path only applies to mode = \"image\"", hint: "add mode = \"image\" to [rootfs] or remove path")
            } else {
                r.path = v
            }
        }
    }

    mutating func decodeIDMap(_ n: TOMLNode, _ m: inout Profile.IDMapSettings) {
        guard let t = table(n, "idmap") else { return }
        if let v = bool(t, "passthrough") { m.passthrough = v }
        for kind in [IDKind.uid, .gid] {
            guard let lines = strings(t, kind.rawValue) else { continue }
            let ownID = kind == .uid ? context.user.uid : context.user.gid
            let result = IDMapLines.validate(lines.map(\.value), kind: kind, ownID: ownID, userName: context.user.name,
                                             delegated: context.delegated(kind))
            for problem in result.problems {
                let node = problem.index < lines.count ? lines[problem.index].node : t[kind.rawValue]!
                let errorKind: ProfileError.Kind = switch problem.kind {
                case .syntax: .badIDMap
                case .range: .idMapRange
                case .overlap: .idMapOverlap
                case .notDelegated: .idMapNotDelegated
                }
                fail(errorKind, node, problem.message, hint: problem.hint)
            }
            if result.problems.isEmpty {
                if kind == .uid { m.uid = result.maps } else { m.gid = result.maps }
            }
        }
    }

    mutating func decodeDevices(_ n: TOMLNode, _ d: inout Profile.Devices) {
        guard let t = table(n, "devices") else { return }
        if let v = bool(t, "dri") { d.dri = v }
        if let v = bool(t, "snd") { d.snd = v }
        if let v = bool(t, "video") { d.video = v }
        if let v = bool(t, "required") { d.required = v }
        if let list = strings(t, "extra") {
            d.extra = []
            for item in list {
                if let problem = PathRules.deviceProblem(item.value) {
                    fail(.badValue, item.node, "device \(TOMLEmitter.quoted(item.value)) \(problem)", hint: "name a device node, e.g. \"/dev/ttyUSB0\"")
                } else {
                    d.extra.append(item.value)
                }
            }
        }
    }

    mutating func decodeNetwork(_ n: TOMLNode, _ net: inout Profile.Network) {
        guard let t = table(n, "network") else { return }
        if let v: Profile.Network.Mode = choice(t, "mode", what: "network mode") { net.mode = v }
        if let b = bridge(t) { net.bridge = b }
        let portKeys: [(String, WritableKeyPath<Profile.Network, [Int]>)] = [
            ("inbound_tcp", \.inboundTCP), ("inbound_udp", \.inboundUDP),
            ("host_loopback_tcp", \.hostLoopbackTCP), ("host_loopback_udp", \.hostLoopbackUDP)]
        for (key, path) in portKeys {
            guard let ports = ports(t, key) else { continue }
            if !ports.isEmpty && net.mode != .pasta, let node = t[key] {
                fail(.badValue, node, "\(key) only applies to network.mode = \"pasta\" (this profile has \(TOMLEmitter.quoted(net.mode.rawValue)))",
                     hint: "set network.mode = \"pasta\" or remove \(key)")
                continue
            }
            net[keyPath: path] = ports
        }
    }

    mutating func decodeDBus(_ n: TOMLNode, _ d: inout Profile.DBus) {
        guard let t = table(n, "dbus") else { return }
        if let v: Profile.DBus.Mode = choice(t, "mode", what: "dbus mode") { d.mode = v }
        decodeDBusRules(t, &d.session, table: "dbus")
        if let s = t["system"], let st = table(s, "dbus.system") { decodeDBusRules(st, &d.system, table: "dbus.system") }
    }

    /// talk/own/see (bus names, optionally `.*`) and call/broadcast (`NAME=RULE`),
    /// checked as xdg-dbus-proxy reads them, so the proxy never refuses its arguments.
    mutating func decodeDBusRules(_ t: TOMLNode, _ rules: inout DBusRules, table: String) {
        let nameHint = "a well-known bus name such as \"org.freedesktop.Notifications\", or \"org.example.*\" for it and every name below it (2+ elements of letters, digits, _ and -, none starting with a digit)"
        let ruleHint = "NAME=RULE with RULE [METHOD][@PATH], e.g. \"org.example.App=org.example.App.Open@/org/example/*\" or \"org.example.App=*\""
        let keys: [(String, WritableKeyPath<DBusRules, [String]>, Bool)] = [
            ("talk", \.talk, false), ("own", \.own, false), ("see", \.see, false), ("call", \.call, true), ("broadcast", \.broadcast, true)]
        for (key, path, withRule) in keys {
            guard let list = strings(t, key) else { continue }
            var values: [String] = []
            for item in list {
                let expanded = DBusNamePlaceholders.expand(item.value, name: "x", appID: "org.x.x")
                let ok = withRule ? DBusNames.isNameAndRule(expanded) : DBusNames.isPolicyName(expanded)
                if ok {
                    values.append(item.value)
                } else if withRule {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) in [\(table)] \(key) is not a bus name and rule as xdg-dbus-proxy reads them", hint: ruleHint)
                } else {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) in [\(table)] \(key) is not a valid bus name", hint: nameHint)
                }
            }
            rules[keyPath: path] = values
        }
    }

    /// An array of port numbers (1–65535), each once.
    mutating func ports(_ t: TOMLNode, _ key: String) -> [Int]? {
        guard let n = t[key] else { return nil }
        guard case .array(let items) = n.value else {
            fail(.wrongType, n, "\(key) must be an array of port numbers, found \(n.typeName) \(n.shortText)",
                 hint: "write \(key) = [8080]")
            return nil
        }
        var out: [Int] = []
        var ok = true
        for item in items {
            guard case .integer(let p) = item.value else {
                fail(.wrongType, item, "\(key) elements must be port numbers, found \(item.typeName) \(item.shortText)",
                     hint: "write a whole number without quotes")
                ok = false
                continue
            }
            guard (1...65535).contains(p) else {
                fail(.badValue, item, "port \(p) in \(key) is out of range", hint: "ports are 1–65535")
                ok = false
                continue
            }
            guard !out.contains(p) else {
                fail(.badValue, item, "port \(p) is listed twice in \(key)")
                ok = false
                continue
            }
            out.append(p)
        }
        return ok ? out : nil
    }

    mutating func bridge(_ t: TOMLNode) -> String? {
        guard let node = t["bridge"], let v = string(t, "bridge") else { return nil }
        if !PathRules.isInterfaceName(v) {
            fail(.badValue, node, "\(TOMLEmitter.quoted(v)) is not a network interface name",
                 hint: "use 1–15 characters from A–Z a–z 0–9 . _ -, e.g. \"sandboxbr0\"")
            return nil
        }
        return v
    }

    mutating func stopTimeout(_ t: TOMLNode) -> Int? {
        guard let node = t["stop_timeout"], let v = int(t, "stop_timeout") else { return nil }
        guard ProfileSchema.stopTimeoutRange.contains(v) else {
            fail(.badValue, node, "stop_timeout \(v) is out of range",
                 hint: "seconds of SIGTERM grace before SIGKILL, \(ProfileSchema.stopTimeoutRange.lowerBound)–\(ProfileSchema.stopTimeoutRange.upperBound)")
            return nil
        }
        return v
    }

    mutating func decodeEnv(_ n: TOMLNode) -> [String: String] {
        guard let t = table(n, "env", checkKeys: false), let entries = t.entries else { return [:] }
        var env: [String: String] = [:]
        for entry in entries {
            let node = entry.node
            var ok = true
            if !PathRules.isEnvironmentName(entry.key) {
                fail(.badValue, node, "\(TOMLEmitter.quoted(entry.key)) is not a valid environment variable name",
                     hint: "use letters, digits and _, not starting with a digit")
                ok = false
            }
            guard case .string(let value) = node.value else {
                let hint = if case .table = node.value { "a dotted name is read as a table; quote it or use _" } else { "quote the value, e.g. \(entry.key) = \"\(node.shortText)\"" }
                fail(.wrongType, node, "environment values must be strings, found \(node.typeName)", hint: hint)
                continue
            }
            if value.utf8.contains(0) { fail(.badValue, node, "environment values cannot contain NUL bytes"); ok = false }
            if ok { env[entry.key] = value }
        }
        return env
    }

    mutating func decodeMounts(_ n: TOMLNode) -> [Profile.Mount] {
        guard case .array(let items) = n.value else {
            fail(.wrongType, n, "mount must be an array of tables, found \(n.typeName)",
                 hint: "write each mount as a [[mount]] section with source and target")
            return []
        }
        var mounts: [Profile.Mount] = []
        for item in items {
            guard case .table = item.value else {
                fail(.wrongType, item, "each mount must be a table, found \(item.typeName)", hint: "write [[mount]] sections")
                continue
            }
            checkKeys(item, known: ProfileSchema.tables["mount"]!, tableName: "[[mount]]")
            guard let sourceNode = item["source"] else {
                fail(.badValue, item, "mount has no source", hint: "add source = \"~/Downloads\" (a host path)")
                continue
            }
            guard let source = string(item, "source") else { continue }
            var valid = true
            if let problem = PathRules.hostPathProblem(source) {
                fail(.badValue, sourceNode, "mount source \(TOMLEmitter.quoted(source)) \(problem)")
                valid = false
            }
            var target = source
            if let targetNode = item["target"] {
                if let v = string(item, "target") {
                    target = v
                    if let problem = PathRules.mountTargetProblem(v) {
                        fail(.badMountTarget, targetNode, "mount target \(TOMLEmitter.quoted(v)) \(problem)",
                             hint: "write an absolute path inside the container, or ~/… for the container home")
                        valid = false
                    }
                } else {
                    valid = false
                }
            } else if valid, let problem = PathRules.mountTargetProblem(source) {
                fail(.badMountTarget, sourceNode, "mount target (defaulting to the source) \(problem)")
                valid = false
            }
            var mount = Profile.Mount(source: source, target: target)
            if let v = bool(item, "readonly") { mount.readonly = v }
            if let v = bool(item, "optional") { mount.optional = v }
            if valid { mounts.append(mount) }
        }
        return mounts
    }

    mutating func decodeSeccomp(_ n: TOMLNode, _ s: inout Profile.Seccomp) {
        guard let t = table(n, "seccomp") else { return }
        if let v: Profile.Seccomp.Policy = choice(t, "profile", what: "seccomp profile") { s.profile = v }
        if let v = bool(t, "allow_userns") { s.allowUserns = v }
        if let v = bool(t, "multiarch") { s.multiarch = v }
        var lists: [String: [(value: String, node: TOMLNode)]] = [:]
        for key in ["allow", "deny"] {
            guard let list = strings(t, key) else { continue }
            var names: [String] = []
            for item in list {
                if PathRules.isSyscallName(item.value) {
                    names.append(item.value)
                } else {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not a system call name", hint: "use the name as in syscalls(2), e.g. \"ptrace\"")
                }
            }
            lists[key] = list
            if key == "allow" { s.allow = names } else { s.deny = names }
        }
        if let allow = lists["allow"], let deny = lists["deny"] {
            for d in deny where allow.contains(where: { $0.value == d.value }) {
                fail(.badValue, d.node, "\(TOMLEmitter.quoted(d.value)) is both allowed and denied", hint: "remove it from one of the lists")
            }
        }
    }

    mutating func decodeImage(_ n: TOMLNode, _ img: inout Profile.Image) {
        guard let t = table(n, "image") else { return }
        if let v = word(t, "distro", from: ProfileSchema.distros) { img.distro = v }
        if let node = t["release"], let v = string(t, "release") {
            if PathRules.isSimpleWord(v) { img.release = v } else { fail(.badValue, node, "release \(TOMLEmitter.quoted(v)) must be one word, e.g. \"bookworm\"") }
        }
        if let v = word(t, "arch", from: ProfileSchema.debianArchitectures) { img.arch = v }
        if let v = word(t, "variant", from: ProfileSchema.variants) { img.variant = v }
        if let list = strings(t, "components") {
            img.components = []
            for item in list {
                if PathRules.isSimpleWord(item.value) { img.components.append(item.value) } else { fail(.badValue, item.node, "component \(TOMLEmitter.quoted(item.value)) must be one word, e.g. \"main\"") }
            }
        }
        if let list = strings(t, "foreign_architectures") {
            img.foreignArchitectures = []
            for item in list {
                if ProfileSchema.debianArchitectures.contains(item.value) { img.foreignArchitectures.append(item.value) } else {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not a Debian architecture",
                         hint: "valid: " + ProfileSchema.debianArchitectures.joined(separator: ", ") + suggestion(item.value, ProfileSchema.debianArchitectures, prefix: "; did you mean "))
                }
            }
        }
        if let list = strings(t, "packages") {
            img.packages = []
            for item in list {
                if PathRules.isPackageName(item.value) { img.packages.append(item.value) } else {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not a Debian package name",
                         hint: "lower-case letters, digits, + - . and an optional :arch, e.g. \"libgl1:i386\"")
                }
            }
        }
        if let list = strings(t, "sources") {
            img.sources = []
            for item in list {
                if PathRules.isAptSourceLine(item.value) { img.sources.append(item.value) } else {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not a one-line apt source",
                         hint: "write \"deb [signed-by=/etc/apt/keyrings/NAME.asc] URL SUITE COMPONENT…\"")
                }
            }
        }
        // Written pins that are all invalid are reported as such, not also as missing.
        var pinsWritten = false
        if let list = strings(t, "key_fingerprints") {
            pinsWritten = !list.isEmpty
            img.keyFingerprints = []
            for item in list {
                if let fpr = PathRules.keyFingerprint(item.value) { img.keyFingerprints.append(fpr) } else {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not an OpenPGP fingerprint",
                         hint: "40 hexadecimal digits (64 for a v5/v6 key), spaces allowed, as `gpg --show-keys FILE` prints it; "
                             + "take it from the vendor's own page, not from the key file")
                }
            }
        }
        if let list = strings(t, "keys") {
            img.keys = []
            for item in list {
                if PathRules.isKeyLocation(item.value) { img.keys.append(item.value) } else {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not a key location",
                         hint: "an https:// URL or an absolute host path of an OpenPGP key file")
                    continue
                }
                // A downloaded key is only as good as the check of what arrived:
                // `create` refuses one whose fingerprint nobody pinned.
                if item.value.hasPrefix("https://") && !pinsWritten {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is downloaded, but image.key_fingerprints pins no fingerprint to check it against",
                         hint: "add key_fingerprints = [\"…\"] to [image] with the fingerprint the vendor publishes for this key")
                }
            }
        }
    }

    mutating func decodeDesktop(_ n: TOMLNode, _ d: inout Profile.Desktop) {
        guard let t = table(n, "desktop") else { return }
        for key in ["name", "icon", "comment"] {
            guard let node = t[key], let v = string(t, key) else { continue }
            if v.isEmpty || v.contains("\n") {
                fail(.badValue, node, "desktop \(key) must be one non-empty line")
                continue
            }
            switch key {
            case "name": d.name = v
            case "icon": d.icon = v
            default: d.comment = v
            }
        }
        for key in ["categories", "mime_types"] {
            guard let list = strings(t, key) else { continue }
            var values: [String] = []
            for item in list {
                if item.value.isEmpty || item.value.contains(";") || item.value.contains("\n") || item.value.contains(" ") {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not a valid \(key == "categories" ? "category" : "MIME type")",
                         hint: key == "categories" ? "one freedesktop category per element, e.g. \"Network\"" : "one MIME type per element, e.g. \"text/html\"")
                } else if key == "mime_types" && !item.value.contains("/") {
                    fail(.badValue, item.node, "\(TOMLEmitter.quoted(item.value)) is not a MIME type (TYPE/SUBTYPE)", hint: "e.g. \"text/html\"")
                } else {
                    values.append(item.value)
                }
            }
            if key == "categories" { d.categories = values } else { d.mimeTypes = values }
        }
    }

    // MARK: User config

    mutating func decodeUserConfig(_ root: TOMLNode, into c: inout UserConfig) {
        checkKeys(root, known: ProfileSchema.userConfig, tableName: "config.toml")
        if let b = bridge(root) { c.bridge = b }
        if let node = root["data_dir"], let v = string(root, "data_dir") {
            if let problem = PathRules.hostPathProblem(v) { fail(.badValue, node, "data_dir \(TOMLEmitter.quoted(v)) \(problem)") } else { c.dataDir = v }
        }
        if let v = stopTimeout(root) { c.stopTimeout = v }
    }

    // MARK: Typed accessors (each reports a wrong type at the value's line)

    mutating func fail(_ kind: ProfileError.Kind, _ node: TOMLNode, _ message: String, hint: String? = nil) {
        errors.append(ProfileError(kind, at: node.location, message, hint: hint))
    }

    /// `node` as a table, with unknown keys reported; nil (and an error) for other types.
    mutating func table(_ node: TOMLNode, _ name: String, checkKeys check: Bool = true) -> TOMLNode? {
        guard case .table = node.value else {
            fail(.wrongType, node, "\(name) must be a table, found \(node.typeName) \(node.shortText)",
                 hint: "write a [\(name)] section with one key per line")
            return nil
        }
        if check, let known = ProfileSchema.tables[name] { checkKeys(node, known: known, tableName: "[\(name)]") }
        return node
    }

    mutating func checkKeys(_ node: TOMLNode, known: [String], tableName: String?) {
        for entry in node.entries ?? [] where !known.contains(entry.key) {
            let place = tableName.map { " in \($0)" } ?? ""
            var near = suggestion(entry.key, known, prefix: "did you mean ")
            if near.isEmpty {
                // A key written in the wrong table (or before any table header).
                let homes = ProfileSchema.tables.filter { $0.value.contains(entry.key) && "[\($0.key)]" != tableName }
                    .map { $0.key == "mount" ? "[[mount]]" : "[\($0.key)]" }.sorted()
                if !homes.isEmpty { near = "\(TOMLEmitter.quoted(entry.key)) belongs in " + homes.joined(separator: " or ") + ";" }
            }
            fail(.unknownKey, entry.node, "unknown key \(TOMLEmitter.quoted(entry.key))\(place)",
                 hint: (near.isEmpty ? "" : near + " ") + "valid keys: " + known.joined(separator: ", "))
        }
    }

    func suggestion(_ word: String, _ candidates: [String], prefix: String) -> String {
        guard let best = EditDistance.closest(to: word, in: candidates) else { return "" }
        return prefix + TOMLEmitter.quoted(best) + (prefix.hasPrefix("did") ? "?" : "")
    }

    mutating func string(_ t: TOMLNode, _ key: String) -> String? {
        guard let n = t[key] else { return nil }
        guard case .string(let s) = n.value else {
            fail(.wrongType, n, "\(key) must be a string, found \(n.typeName) \(n.shortText)", hint: "put the value in double quotes")
            return nil
        }
        if s.utf8.contains(0) { fail(.badValue, n, "\(key) cannot contain NUL bytes"); return nil }
        return s
    }

    mutating func bool(_ t: TOMLNode, _ key: String) -> Bool? {
        guard let n = t[key] else { return nil }
        guard case .bool(let b) = n.value else {
            var hint = "write true or false"
            if case .string(let s) = n.value, s == "true" || s == "false" { hint = "write \(s) without quotes" }
            fail(.wrongType, n, "\(key) must be a boolean, found \(n.typeName) \(n.shortText)", hint: hint)
            return nil
        }
        return b
    }

    mutating func int(_ t: TOMLNode, _ key: String) -> Int? {
        guard let n = t[key] else { return nil }
        guard case .integer(let i) = n.value else {
            fail(.wrongType, n, "\(key) must be an integer, found \(n.typeName) \(n.shortText)", hint: "write a whole number without quotes")
            return nil
        }
        return i
    }

    /// An array of strings with each element's node (for element-precise messages).
    mutating func strings(_ t: TOMLNode, _ key: String) -> [(value: String, node: TOMLNode)]? {
        guard let n = t[key] else { return nil }
        guard case .array(let items) = n.value else {
            var hint = "write \(key) = [\"…\", \"…\"]"
            if case .string(let s) = n.value { hint = "write \(key) = [\(TOMLEmitter.quoted(s))]" }
            fail(.wrongType, n, "\(key) must be an array of strings, found \(n.typeName) \(n.shortText)", hint: hint)
            return nil
        }
        var out: [(String, TOMLNode)] = []
        var ok = true
        for item in items {
            guard case .string(let s) = item.value else {
                fail(.wrongType, item, "\(key) elements must be strings, found \(item.typeName) \(item.shortText)", hint: "quote it")
                ok = false
                continue
            }
            if s.utf8.contains(0) { fail(.badValue, item, "\(key) elements cannot contain NUL bytes"); ok = false; continue }
            out.append((s, item))
        }
        return ok ? out : nil
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ t: TOMLNode, _ key: String, what: String) -> E? where E.RawValue == String {
        let valid = E.allCases.map(\.rawValue)
        guard let v = word(t, key, from: valid, what: what) else { return nil }
        return E(rawValue: v)
    }

    /// A string that must be one of `valid`.
    mutating func word(_ t: TOMLNode, _ key: String, from valid: [String], what: String? = nil) -> String? {
        guard let n = t[key] else { return nil }
        guard case .string(let s) = n.value else {
            fail(.wrongType, n, "\(key) must be a string, one of \(valid.map { TOMLEmitter.quoted($0) }.joined(separator: ", ")); found \(n.typeName) \(n.shortText)")
            return nil
        }
        guard valid.contains(s) else {
            let near = suggestion(s, valid, prefix: "did you mean ")
            fail(.badValue, n, "\(TOMLEmitter.quoted(s)) is not a valid \(what ?? key)",
                 hint: (near.isEmpty ? "" : near + " ") + "valid: " + valid.map { TOMLEmitter.quoted($0) }.joined(separator: ", "))
            return nil
        }
        return s
    }
}

/// Syntax rules for the strings profiles contain.
enum PathRules {
    /// Why `path` is unusable as a host path (absolute or ~/…), or nil.
    static func hostPathProblem(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if !(path.hasPrefix("/") || path == "~" || path.hasPrefix("~/")) {
            return path.hasPrefix("~") ? "uses ~user, which is not supported (only ~ and ~/…)" : "is relative (write an absolute path or ~/…)"
        }
        if hasDotDot(path) { return "contains '..' (write the path without it)" }
        return nil
    }

    /// Why `target` is unusable as a mount point inside the container, or nil.
    static func mountTargetProblem(_ target: String) -> String? {
        if target.isEmpty { return "is empty" }
        if target.hasPrefix("~") && !(target == "~" || target.hasPrefix("~/")) { return "uses ~user (only ~ and ~/… are supported; ~ is the container home)" }
        if !(target.hasPrefix("/") || target.hasPrefix("~")) { return "is relative" }
        if hasDotDot(target) { return "contains '..', which could escape the intended directory" }
        if target.split(separator: "/").isEmpty { return "is the container root /" }
        return nil
    }

    static func deviceProblem(_ path: String) -> String? {
        guard path.hasPrefix("/dev/"), path.count > 5 else { return "is not under /dev/" }
        if hasDotDot(path) { return "contains '..'" }
        return nil
    }

    static func hasDotDot(_ path: String) -> Bool {
        path.split(separator: "/").contains("..")
    }

    static func isInterfaceName(_ s: String) -> Bool {
        (1...15).contains(s.utf8.count) && s != "." && s != ".."
            && s.utf8.allSatisfy { KeyPath.isBareKeyByte($0) || $0 == UInt8(ascii: ".") }
    }

    static func isEnvironmentName(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(first >= 48 && first <= 57) else { return false }
        return s.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    static func isSyscallName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    static func isSimpleWord(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix("-") && s.utf8.allSatisfy { KeyPath.isBareKeyByte($0) || $0 == UInt8(ascii: ".") }
    }

    /// Debian policy names (plus an optional :arch); never starting with '-', so
    /// a package list cannot smuggle options into apt or mmdebstrap.
    static func isPackageName(_ s: String) -> Bool {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, name.utf8.count >= 2 else { return false }
        let bytes = Array(name.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        guard alnum(bytes[0]), bytes.allSatisfy({ alnum($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else { return false }
        if parts.count == 2 { return ProfileSchema.debianArchitectures.contains(String(parts[1])) || parts[1] == "any" || parts[1] == "native" }
        return true
    }

    static func isAptSourceLine(_ s: String) -> Bool {
        (s.hasPrefix("deb ") || s.hasPrefix("deb-src ")) && !s.contains("\n") && !s.contains("\r")
            && s.split(separator: " ").count >= 3
    }

    /// An OpenPGP v4 (40 hex digits) or v5/v6 (64) fingerprint, spaces allowed;
    /// normalized to upper case without spaces, as gpg's --with-colons prints it.
    static func keyFingerprint(_ s: String) -> String? {
        let hex = s.filter { $0 != " " }.uppercased()
        guard hex.count == 40 || hex.count == 64, hex.allSatisfy({ $0.isHexDigit && $0.isASCII }) else { return nil }
        return hex
    }

    static func isKeyLocation(_ s: String) -> Bool {
        if s.contains("\n") || s.contains(" ") { return false }
        if s.hasPrefix("https://") { return s.count > 8 }
        return hostPathProblem(s) == nil && s.hasPrefix("/")
    }
}

enum EditDistance {
    /// Levenshtein distance over Unicode scalars.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var row = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            row[0] = i
            for j in 1...y.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[y.count]
    }

    /// The closest candidate, if it is close enough to be a plausible typo;
    /// spelling variants (case, - or _, camelCase) always match.
    static func closest(to word: String, in candidates: [String]) -> String? {
        func squashed(_ s: String) -> String { String(s.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" }) }
        if let same = candidates.first(where: { squashed($0) == squashed(word) }) { return same }
        let scored = candidates.map { ($0, distance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
        guard let (best, d) = scored else { return nil }
        return d <= max(2, word.count / 3) && d < word.count ? best : nil
    }
}
