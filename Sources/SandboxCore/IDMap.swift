// User-namespace id maps: the /etc/subuid and /etc/subgid delegations, the
// "passthrough" map of the LXC GUI recipe, and the checks newuidmap/newgidmap
// would apply to an explicit map. Pure: callers read the files and hand in text,
// so every case is unit-tested without a kernel.

/// One delegation line of /etc/subuid or /etc/subgid: `count` ids from `start`.
public struct SubordinateIDRange: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var start: UInt32
    public var count: UInt32
    public init(start: UInt32, count: UInt32) {
        self.start = start
        self.count = count
    }
    /// One past the last id, as a UInt64 so ranges ending at 2^32 fit.
    public var end: UInt64 { UInt64(start) + UInt64(count) }
    /// "100000–165535", the form messages use.
    public var description: String { count == 0 ? "\(start) (empty)" : "\(start)–\(end - 1)" }
}

public enum SubordinateIDs {
    /// The ranges delegated to `user` (matched by name or by numeric uid, as
    /// shadow's newuidmap does) in the text of /etc/subuid or /etc/subgid,
    /// in file order. Comments, blank and malformed lines are skipped; ranges
    /// that would run past 2^32 are clipped.
    public static func parse(contents: String, user: String, uid: UInt32) -> [SubordinateIDRange] {
        let uidText = String(uid)
        var ranges: [SubordinateIDRange] = []
        // Bytes, not Characters: every other user's line is only looked at (0.35 M
        // of a start's instructions with Substrings and Character trimming).
        ColonDatabase(contents).forEachRecord { r in
            guard r.count == 3, r.line.first(where: { $0 != 32 && $0 != 9 }) != UInt8(ascii: "#") else { return }
            let owner = ProfileText.trimmed(r[0])
            guard owner.elementsEqual(user.utf8) || owner.elementsEqual(uidText.utf8) else { return }
            guard let start = UInt32(String(decoding: ProfileText.trimmed(r[1]), as: UTF8.self)),
                  let count = UInt64(String(decoding: ProfileText.trimmed(r[2]), as: UTF8.self)), count > 0 else { return }
            let clipped = min(count, (UInt64(1) << 32) - UInt64(start))
            if clipped > 0 { ranges.append(SubordinateIDRange(start: start, count: UInt32(clipped))) }
        }
        return ranges
    }
}

/// Which id space a map is for; names the files and tools in messages.
public enum IDKind: String, Sendable {
    case uid, gid
    public var subordinateFile: String { self == .uid ? "/etc/subuid" : "/etc/subgid" }
    public var mapTool: String { self == .uid ? "newuidmap" : "newgidmap" }
    var usermodFlag: String { self == .uid ? "--add-subuids" : "--add-subgids" }
}

/// The uid and gid maps for a container, and what the user should know about them.
public struct IDMapPlan: Sendable, Equatable {
    public var uidMap: [IDMapping]
    public var gidMap: [IDMapping]
    /// Limits the user should hear about (small or missing delegations, root).
    public var notices: [String]
    /// The user's supplementary groups the gid map maps 1:1 (host gid = container
    /// gid), so sessions can keep them with setgroups: video, render, audio…
    /// when /etc/subgid delegates them. Sorted; never the primary gid or 0.
    public var keptGroups: [UInt32]
    public init(uidMap: [IDMapping], gidMap: [IDMapping], notices: [String], keptGroups: [UInt32] = []) {
        self.uidMap = uidMap
        self.gidMap = gidMap
        self.notices = notices
        self.keptGroups = keptGroups
    }
}

public enum IDMapPlanner {
    /// The container id space a passthrough map covers: 0–65535, as LXC's default.
    public static let containerIDs: UInt32 = 65536

    /// Supplementary groups beyond this are not kept: the container's init has a
    /// fixed setgroups buffer of 64 (CSandboxSpawn/init.c), and each kept group
    /// costs up to two of the kernel's 340 map lines.
    public static let maxKeptGroups = 64

    /// Resolves a profile's [idmap] settings: explicit lines win (per kind);
    /// otherwise passthrough; `passthrough = false` without lines maps only the
    /// user's own id 1:1.
    ///
    /// `groups` are the user's supplementary groups (getgroups). With passthrough,
    /// each one /etc/subgid delegates to the user (e.g. `alice:44:1`) is mapped 1:1
    /// and listed in `keptGroups`; with explicit gid lines, those the lines map 1:1.
    public static func plan(settings: Profile.IDMapSettings, uid: UInt32, gid: UInt32, userName: String,
                            subuid: [SubordinateIDRange], subgid: [SubordinateIDRange],
                            groups: [UInt32] = []) -> IDMapPlan {
        var notices: [String] = []
        var kept: [UInt32] = []
        func one(_ explicit: [IDMapping], _ id: UInt32, _ ranges: [SubordinateIDRange], _ kind: IDKind) -> [IDMapping] {
            if !explicit.isEmpty {
                if kind == .gid { kept = oneToOne(candidateGroups(groups, primary: id), in: explicit) }
                return explicit
            }
            if settings.passthrough {
                var keep: [UInt32] = []
                if kind == .gid {
                    let split = delegatedGroups(groups, primary: id, delegated: ranges)
                    keep = Array(split.delegated.prefix(maxKeptGroups))
                    if split.delegated.count > maxKeptGroups {
                        notices.append("\(split.delegated.count) of your supplementary groups are delegated in /etc/subgid; only the first \(maxKeptGroups) (up to \(keep.last ?? 0)) are kept in the container")
                    }
                    kept = keep
                }
                let (map, n) = passthrough(id: id, ranges: ranges, kind: kind, userName: userName, keep: keep)
                notices += n
                return map
            }
            return [IDMapping(inside: id, outside: id, count: 1)]
        }
        let uidMap = one(settings.uid, uid, subuid, .uid)
        let gidMap = one(settings.gid, gid, subgid, .gid)
        return IDMapPlan(uidMap: uidMap, gidMap: gidMap, notices: notices, keptGroups: kept)
    }

    /// Passthrough for both kinds: the user's uid/gid 1:1, the delegated
    /// supplementary groups 1:1, every other container id in 0–65535 from the
    /// subordinate ranges.
    public static func passthrough(uid: UInt32, gid: UInt32, userName: String,
                                   subuid: [SubordinateIDRange], subgid: [SubordinateIDRange],
                                   groups: [UInt32] = []) -> IDMapPlan {
        plan(settings: Profile.IDMapSettings(), uid: uid, gid: gid, userName: userName,
             subuid: subuid, subgid: subgid, groups: groups)
    }

    /// The user's supplementary groups worth mapping: sorted, unique, without the
    /// primary gid (always mapped) and without gid 0 (container gid 0 is the
    /// container's root group; handing it the host's root group is never wanted).
    static func candidateGroups(_ groups: [UInt32], primary: UInt32) -> [UInt32] {
        Array(Set(groups)).filter { $0 != primary && $0 != 0 }.sorted()
    }

    /// Splits the user's supplementary groups into those /etc/subgid delegates to
    /// the user (newgidmap maps a host gid only when a delegated range covers it,
    /// or when it is the caller's own gid) and the rest. Both sorted.
    public static func delegatedGroups(_ groups: [UInt32], primary: UInt32,
                                       delegated: [SubordinateIDRange]) -> (delegated: [UInt32], undelegated: [UInt32]) {
        var yes: [UInt32] = [], no: [UInt32] = []
        for g in candidateGroups(groups, primary: primary) {
            if delegated.contains(where: { UInt64($0.start) <= UInt64(g) && UInt64(g) < $0.end }) { yes.append(g) } else { no.append(g) }
        }
        return (yes, no)
    }

    /// The gids an explicit map maps to themselves.
    static func oneToOne(_ gids: [UInt32], in map: [IDMapping]) -> [UInt32] {
        gids.filter { g in
            map.contains { $0.inside == $0.outside && $0.inside <= g && UInt64(g) < UInt64($0.inside) + UInt64($0.count) }
        }
    }

    /// The passthrough map for one id kind, sorted by inside id.
    ///
    /// With a delegated range of at least 65536 ids, container id i maps to
    /// start+i (the recipe's "0 100000 1000 / 1000 1000 1 / 1001 101001 64535"
    /// for id 1000 and 100000:65536), so a file's owner reads the same in every
    /// container. Otherwise the available ids are packed in order from container
    /// id 0 up, and what stays unmapped is reported.
    ///
    /// `keep` are further ids mapped 1:1 (the user's delegated supplementary
    /// groups): like the user's own id they are carved out of both sides — no
    /// container id below 65536 is filled from elsewhere, and no subordinate
    /// host id is handed out twice — so with 100000:65536 and keep [44] the map
    /// is "0 100000 44", "44 44 1", "45 100045 955", "1000 1000 1", … Callers
    /// pass only ids the ranges delegate (newgidmap refuses the others).
    public static func passthrough(id: UInt32, ranges: [SubordinateIDRange], kind: IDKind,
                                   userName: String, keep: [UInt32] = []) -> (map: [IDMapping], notices: [String]) {
        var notices: [String] = []
        if id == 0 {
            notices.append("running as root: container \(kind) 0 is the host's \(kind) 0; run sandbox as an ordinary user for isolation")
        }
        let carved = Array(Set(keep + [id])).sorted()
        let identity = carved.map { IDMapping(inside: $0, outside: $0, count: 1) }
        // Container ids to fill, ascending: 0–65535 without the carved ids.
        let top = UInt64(containerIDs)
        var wanted: [(start: UInt64, end: UInt64)] = []
        var next: UInt64 = 0
        for c in carved.map(UInt64.init) where c < top {
            if c > next { wanted.append((next, c)) }
            next = c + 1
        }
        if next < top { wanted.append((next, top)) }
        let available = normalized(ranges, excluding: carved)
        let needed = wanted.reduce(UInt64(0)) { $0 + ($1.end - $1.start) }

        if available.isEmpty {
            let others = carved.filter { $0 != id }
            let mapped = others.isEmpty ? "only \(kind) \(id) is mapped" : "only \(kind) \(id) and your groups \(others.map(String.init).joined(separator: ", ")) are mapped"
            notices.append("""
                no subordinate \(kind)s for \(userName) in \(kind.subordinateFile): \(mapped), \
                so the container has no root and no system \(kind)s (package installs and apps that switch \(kind)s fail; \
                files of other owners show as nobody). Fix: usermod \(kind.usermodFlag) 100000-165535 \(userName)
                """)
            return (identity, notices)
        }

        var map: [IDMapping] = []
        // Offset-preserving layout when one range can hold the whole 0–65535 window.
        if let big = available.first(where: { $0.end - $0.start >= top }) {
            for w in wanted {
                map.append(IDMapping(inside: UInt32(w.start), outside: UInt32(big.start + w.start), count: UInt32(w.end - w.start)))
            }
        } else {
            // Pack: walk the wanted container ids and the available host ids together.
            var pool = available
            var mapped: UInt64 = 0
            for w in wanted {
                var cursor = w.start
                while cursor < w.end, !pool.isEmpty {
                    let take = min(w.end - cursor, pool[0].end - pool[0].start)
                    map.append(IDMapping(inside: UInt32(cursor), outside: UInt32(pool[0].start), count: UInt32(take)))
                    cursor += take
                    mapped += take
                    pool[0].start += take
                    if pool[0].start == pool[0].end { pool.removeFirst() }
                }
            }
            if mapped < needed {
                let firstUnmapped = firstUnmappedID(map: map, carved: carved)
                let except = carved.count == 1 ? "\(id)" : carved.map(String.init).joined(separator: ", ")
                notices.append("""
                    only \(mapped) subordinate \(kind)s for \(userName) in \(kind.subordinateFile) (\(needed) wanted): \
                    container \(kind)s from \(firstUnmapped) up (except \(except)) are unmapped and show as nobody. \
                    Fix: give \(userName) a range of 65536, e.g. usermod \(kind.usermodFlag) 100000-165535 \(userName)
                    """)
            }
        }
        map += identity
        map.sort { $0.inside < $1.inside }
        return (map, notices)
    }

    /// Sorted, merged host ranges with the `excluded` ids cut out (a delegation
    /// that contains the user's own id or a kept group must not hand it out twice).
    static func normalized(_ ranges: [SubordinateIDRange], excluding excluded: [UInt32]) -> [(start: UInt64, end: UInt64)] {
        var spans = ranges.filter { $0.count > 0 }.map { (start: UInt64($0.start), end: $0.end) }.sorted { $0.start < $1.start }
        var merged: [(start: UInt64, end: UInt64)] = []
        for s in spans {
            if let last = merged.last, s.start <= last.end {
                merged[merged.count - 1].end = max(last.end, s.end)
            } else {
                merged.append(s)
            }
        }
        spans = merged
        for x in excluded.map(UInt64.init) {
            var cut: [(start: UInt64, end: UInt64)] = []
            for m in spans {
                if x >= m.start && x < m.end {
                    if x > m.start { cut.append((m.start, x)) }
                    if x + 1 < m.end { cut.append((x + 1, m.end)) }
                } else {
                    cut.append(m)
                }
            }
            spans = cut
        }
        return spans
    }

    private static func firstUnmappedID(map: [IDMapping], carved: [UInt32]) -> UInt64 {
        let skip = Set(carved.map(UInt64.init))
        var next: UInt64 = 0
        while skip.contains(next) { next += 1 }
        for m in map.sorted(by: { $0.inside < $1.inside }) where UInt64(m.inside) == next {
            next += UInt64(m.count)
            while skip.contains(next) { next += 1 }
        }
        return next
    }
}

/// A problem with one explicit id-map line, as newuidmap/newgidmap or the kernel would see it.
public struct IDMapProblem: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case syntax, range, overlap, notDelegated }
    public var kind: Kind
    /// Index of the offending line in the list.
    public var index: Int
    public var message: String
    public var hint: String?
}

public enum IDMapLines {
    /// The kernel accepts at most 340 lines per map (Linux ≥ 4.15).
    public static let maxLines = 340

    /// Parses "INSIDE OUTSIDE COUNT". Nil for anything else.
    public static func parse(_ line: String) -> IDMapping? {
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard f.count == 3, f.allSatisfy({ ProfileText.isDigits($0) }),
              let i = UInt32(f[0]), let o = UInt32(f[1]), let c = UInt32(f[2]) else { return nil }
        return IDMapping(inside: i, outside: o, count: c)
    }

    /// Checks explicit lines the way the kernel and newuidmap/newgidmap would:
    /// syntax, ranges inside 32 bits, no overlap on either side, and every host
    /// id delegated in /etc/sub{u,g}id (the caller's own id, count 1, always is).
    public static func validate(_ lines: [String], kind: IDKind, ownID: UInt32, userName: String,
                                delegated: [SubordinateIDRange]) -> (maps: [IDMapping], problems: [IDMapProblem]) {
        var problems: [IDMapProblem] = []
        var parsed: [(index: Int, map: IDMapping)] = []
        let limit = UInt64(1) << 32
        for (i, line) in lines.enumerated() {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count == 3, f.allSatisfy({ ProfileText.isDigits($0) }) else {
                problems.append(IDMapProblem(kind: .syntax, index: i,
                    message: "'\(line)' is not an id-map line",
                    hint: "write \"INSIDE OUTSIDE COUNT\" with three unsigned numbers, e.g. \"0 100000 65536\""))
                continue
            }
            let nums = f.map { UInt64($0) }
            guard let inside = nums[0], let outside = nums[1], let count = nums[2],
                  inside < limit, outside < limit, count < limit else {
                problems.append(IDMapProblem(kind: .range, index: i,
                    message: "'\(line)': ids and counts must be below 2^32 (4294967296)", hint: nil))
                continue
            }
            if count == 0 {
                problems.append(IDMapProblem(kind: .syntax, index: i, message: "'\(line)': COUNT must be at least 1",
                                             hint: "write \"INSIDE OUTSIDE COUNT\", e.g. \"0 100000 65536\""))
                continue
            }
            if inside + count > limit || outside + count > limit {
                problems.append(IDMapProblem(kind: .range, index: i,
                    message: "'\(line)' runs past the largest id 4294967295",
                    hint: "lower COUNT to at most \(limit - max(inside, outside))"))
                continue
            }
            parsed.append((i, IDMapping(inside: UInt32(inside), outside: UInt32(outside), count: UInt32(count))))
        }
        if lines.count > maxLines {
            problems.append(IDMapProblem(kind: .range, index: maxLines,
                message: "\(lines.count) lines: the kernel accepts at most \(maxLines) per map", hint: "merge adjacent ranges"))
        }
        // Overlaps, each pair reported once, on the inside and on the outside.
        for a in 0..<parsed.count {
            for b in (a + 1)..<max(a + 1, parsed.count) {
                let x = parsed[a], y = parsed[b]
                if overlap(x.map.inside, y.map.inside, x.map.count, y.map.count) {
                    problems.append(IDMapProblem(kind: .overlap, index: y.index,
                        message: "'\(lines[y.index])' overlaps '\(lines[x.index])' (\(kind)[\(x.index)]) inside the container",
                        hint: "each container \(kind) may be mapped once"))
                } else if overlap(x.map.outside, y.map.outside, x.map.count, y.map.count) {
                    problems.append(IDMapProblem(kind: .overlap, index: y.index,
                        message: "'\(lines[y.index])' overlaps '\(lines[x.index])' (\(kind)[\(x.index)]) on the host",
                        hint: "each host \(kind) may be mapped once"))
                }
            }
        }
        // Delegation, as newuidmap checks it.
        let spans = normalized(delegated)
        for p in parsed {
            let m = p.map
            if m.count == 1 && m.outside == ownID { continue }
            if !covered(UInt64(m.outside), UInt64(m.outside) + UInt64(m.count), by: spans) {
                let have = delegated.isEmpty ? "none" : delegated.map(\.description).joined(separator: ", ")
                problems.append(IDMapProblem(kind: .notDelegated, index: p.index,
                    message: "host \(kind)s \(m.outside)–\(UInt64(m.outside) + UInt64(m.count) - 1) of '\(lines[p.index])' are not delegated to \(userName) in \(kind.subordinateFile) (delegated: \(have); your own \(kind) \(ownID) may be mapped with COUNT 1), so \(kind.mapTool) would refuse",
                    hint: "use delegated ids, or ask an administrator: usermod \(kind.usermodFlag) \(m.outside)-\(UInt64(m.outside) + UInt64(m.count) - 1) \(userName)"))
            }
        }
        problems.sort { $0.index < $1.index }
        return (parsed.map(\.map), problems)
    }

    private static func overlap(_ a: UInt32, _ b: UInt32, _ ac: UInt32, _ bc: UInt32) -> Bool {
        UInt64(a) < UInt64(b) + UInt64(bc) && UInt64(b) < UInt64(a) + UInt64(ac)
    }

    private static func normalized(_ ranges: [SubordinateIDRange]) -> [(start: UInt64, end: UInt64)] {
        var merged: [(start: UInt64, end: UInt64)] = []
        for s in ranges.filter({ $0.count > 0 }).map({ (start: UInt64($0.start), end: $0.end) }).sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, s.start <= last.end {
                merged[merged.count - 1].end = max(last.end, s.end)
            } else {
                merged.append(s)
            }
        }
        return merged
    }

    private static func covered(_ start: UInt64, _ end: UInt64, by spans: [(start: UInt64, end: UInt64)]) -> Bool {
        spans.contains { $0.start <= start && end <= $0.end }
    }
}

/// Small text helpers for the profile code, namespaced so other files' extensions cannot clash.
enum ProfileText {
    static func isDigits<S: StringProtocol>(_ s: S) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
    /// `bytes` without the leading and trailing blanks `trim` removes.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func ws(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }
        guard let first = bytes.firstIndex(where: { !ws($0) }) else { return [] }
        return bytes[first...bytes.lastIndex(where: { !ws($0) })!]
    }

    static func trim<S: StringProtocol>(_ s: S) -> String {
        String(decoding: trimmed(Array(s.utf8)[...]), as: UTF8.self)
    }
}
