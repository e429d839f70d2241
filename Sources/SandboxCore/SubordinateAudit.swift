// `sandbox doctor`'s look at the whole of /etc/subuid or /etc/subgid: ranges of
// the user that overlap each other or another user's (Debian 12's useradd assigns
// one, a later `usermod --add-subuids` of an overlapping range adds a second: podman
// then refuses the map and two users may own each other's files), and which host
// ids the container's id map and `sandbox create` take. Pure: the caller reads the
// file and hands in its text.

/// One delegation line with its owner (a name or a uid, as written) and line number.
public struct SubordinateDelegation: Sendable, Equatable {
    public var owner: String
    public var range: SubordinateIDRange
    /// 1-based line number in the file.
    public var line: Int
    public init(owner: String, range: SubordinateIDRange, line: Int) {
        self.owner = owner
        self.range = range
        self.line = line
    }
}

/// Two delegation lines that hand out some of the same ids.
public struct SubordinateOverlap: Sendable, Equatable {
    /// The user's line.
    public var mine: SubordinateDelegation
    /// The other line: the user's own (a second range) or another user's.
    public var other: SubordinateDelegation
    public var otherIsMine: Bool
    /// The ids both lines cover.
    public var shared: SubordinateIDRange
}

public struct SubordinateAudit: Sendable, Equatable {
    public var kind: IDKind
    public var user: String
    /// The user's ranges, in file order.
    public var ranges: [SubordinateIDRange]
    public var overlaps: [SubordinateOverlap]
    /// The subordinate part of the container's passthrough map (the user's own id left out).
    public var mapPieces: [IDMapping]
    /// The range `sandbox create` unpacks images into: the user's first line, as mmdebstrap takes it.
    public var buildRange: SubordinateIDRange?

    /// Every well-formed delegation line of the file (the same rules as `SubordinateIDs.parse`).
    public static func delegations(contents: String) -> [SubordinateDelegation] {
        var out: [SubordinateDelegation] = []
        for (n, rawLine) in contents.byteSplit("\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.byteSplit(":", omittingEmptySubsequences: false)
            guard fields.count == 3, let start = UInt32(ProfileText.trim(fields[1])),
                  let count = UInt64(ProfileText.trim(fields[2])), count > 0 else { continue }
            let clipped = min(count, (UInt64(1) << 32) - UInt64(start))
            guard clipped > 0 else { continue }
            out.append(SubordinateDelegation(owner: ProfileText.trim(fields[0]),
                                             range: SubordinateIDRange(start: start, count: UInt32(clipped)), line: n + 1))
        }
        return out
    }

    /// Audits `user`'s (name or numeric `id`) lines of one file.
    ///
    /// `sharedIDs` are ids that several users delegate to themselves by design and
    /// that are no overlap: for /etc/subgid the user's own supplementary groups
    /// (`alice:44:1` keeps the video group in containers, and every member of
    /// video has such a line). A pair whose common ids all are shared is not reported.
    public static func audit(contents: String, kind: IDKind, user: String, id: UInt32,
                             sharedIDs: [UInt32] = []) -> SubordinateAudit {
        let all = delegations(contents: contents)
        let idText = String(id)
        func isMine(_ d: SubordinateDelegation) -> Bool { d.owner == user || d.owner == idText }
        let mine = all.filter(isMine)
        let shared = Set(sharedIDs)
        var overlaps: [SubordinateOverlap] = []
        for m in mine {
            for o in all where o.line != m.line {
                // A pair of the user's own lines is reported once, from the earlier line.
                if isMine(o) && o.line < m.line { continue }
                let start = max(UInt64(m.range.start), UInt64(o.range.start))
                let end = min(m.range.end, o.range.end)
                guard start < end else { continue }
                if end - start <= UInt64(shared.count),
                   (start..<end).allSatisfy({ shared.contains(UInt32($0)) }) { continue }
                overlaps.append(SubordinateOverlap(mine: m, other: o, otherIsMine: isMine(o),
                                                   shared: SubordinateIDRange(start: UInt32(start), count: UInt32(end - start))))
            }
        }
        let ranges = mine.map(\.range)
        let map = IDMapPlanner.passthrough(id: id, ranges: ranges, kind: kind, userName: user).map
        let pieces = map.filter { !($0.inside == id && $0.outside == id && $0.count == 1) }
        return SubordinateAudit(kind: kind, user: user, ranges: ranges, overlaps: overlaps, mapPieces: pieces,
                                buildRange: ranges.first)
    }

    /// The doctor line: `subuid-map` / `subgid-map`.
    public var check: DoctorCheck {
        let name = "\(kind == .uid ? "subuid" : "subgid")-map"
        let file = kind.subordinateFile
        if ranges.isEmpty {
            return DoctorCheck(name, .ok, "no range of yours in \(file): containers map only your own \(kind)")
        }
        var findings: [String] = []
        var problems: [String] = []
        var hints: [String] = []
        findings.append(mapDescription)
        if !overlaps.isEmpty {
            let words = overlaps.map { o in
                let whose = o.otherIsMine ? "your own line \(o.other.line) (\(o.other.range))" : "\(o.other.owner)'s line \(o.other.line) (\(o.other.range))"
                return "line \(o.mine.line) (\(o.mine.range)) overlaps \(whose) in \(o.shared)"
            }
            problems.append("overlapping ranges in \(file): " + words.joined(separator: "; "))
            var fix = "as root, keep one range per user that no other user has: "
            if let o = overlaps.first(where: { $0.otherIsMine }) {
                fix += "usermod \(kind.usermodFlag.replacingDel) \(o.other.range.start)-\(o.other.range.end - 1) \(user)"
            } else if let o = overlaps.first {
                fix += "usermod \(kind.usermodFlag.replacingDel) \(o.mine.range.start)-\(o.mine.range.end - 1) \(user), then add a free range with \(kind.usermodFlag)"
            }
            hints.append(fix + " (look at \(file) for a free range; podman and other tools refuse overlapping delegations)")
        }
        if let build = buildRange, build.count >= IDMapPlanner.containerIDs, let window = offsetWindow, window.start != build.start {
            problems.append("`sandbox create` unpacks images into your first line's range \(build) (as mmdebstrap does), but the id map uses \(window): files of images built here show as nobody")
            hints.append("as root: make the range the id map uses your first line in \(file), or remove the other one")
        }
        if problems.isEmpty {
            return DoctorCheck(name, .ok, findings.joined(separator: "; ") + "; no range overlaps another")
        }
        return DoctorCheck(name, .warn, (problems + findings).joined(separator: "; "), hint: hints.joined(separator: "; "))
    }

    /// When the map is one block at a fixed offset (the usual case): its host ids.
    var offsetWindow: SubordinateIDRange? {
        guard let first = mapPieces.first,
              mapPieces.reduce(UInt64(0), { $0 + UInt64($1.count) }) >= UInt64(IDMapPlanner.containerIDs) - 1 else { return nil }
        let offset = Int64(first.outside) - Int64(first.inside)
        guard mapPieces.allSatisfy({ Int64($0.outside) - Int64($0.inside) == offset }), offset >= 0 else { return nil }
        return SubordinateIDRange(start: UInt32(offset), count: IDMapPlanner.containerIDs)
    }

    /// "the id map uses host 100000–165535 for container uids 0–65535 (your uid 1000 stays 1000)".
    public var mapDescription: String {
        if mapPieces.isEmpty { return "your ranges add no \(kind)s beyond your own: containers map only your own \(kind)" }
        if let window = offsetWindow {
            let mapped = mapPieces.reduce(UInt64(0)) { $0 + UInt64($1.count) }
            let own = mapped < UInt64(IDMapPlanner.containerIDs) ? " (except your own \(kind), which stays itself)" : ""
            return "the id map uses host \(kind)s \(window) for container \(kind)s 0–65535\(own)"
        }
        let shown = mapPieces.prefix(4).map { p in
            "\(p.inside)–\(UInt64(p.inside) + UInt64(p.count) - 1) → \(p.outside)–\(UInt64(p.outside) + UInt64(p.count) - 1)"
        }
        return "the id map uses container → host \(kind)s " + shown.joined(separator: ", ") + (mapPieces.count > 4 ? ", …" : "")
    }
}

private extension String {
    /// `--add-subuids` → `--del-subuids`.
    var replacingDel: String { replacing("--add-", with: "--del-") }
}
