// A read-only view of /etc/sandbox/usernet (lxc-usernet format), for `doctor`.
// The setuid helper sandbox-net has its own parser in C and is the authority;
// this one only tells the user what the helper will allow, before they try.
// When `sandbox-net check` exists, doctor can ask the helper instead.

/// One line `USER|@GROUP TYPE BRIDGE COUNT` (TYPE is `veth`).
public struct UsernetEntry: Sendable, Equatable {
    public enum Subject: Sendable, Equatable {
        case user(String)
        case group(String)
    }
    public var subject: Subject
    public var type: String
    public var bridge: String
    public var count: Int
    public var line: Int
}

/// The parsed file: entries in order, and the lines that could not be read.
public struct UsernetFile: Sendable, Equatable {
    public var entries: [UsernetEntry] = []
    /// Malformed lines, each "FILE:LINE: what is wrong".
    public var problems: [String] = []

    public init(entries: [UsernetEntry] = [], problems: [String] = []) {
        self.entries = entries
        self.problems = problems
    }

    /// Parses the text of a usernet file; `#` starts a comment.
    public init(parsing text: String, file: String = "/etc/sandbox/usernet") {
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            let where_ = "\(file):\(i + 1)"
            guard fields.count == 4 else {
                problems.append("\(where_): expected 'USER|@GROUP veth BRIDGE COUNT', got \(fields.count) fields")
                continue
            }
            guard let count = Int(fields[3]), count >= 0 else {
                problems.append("\(where_): COUNT '\(fields[3])' is not a non-negative number")
                continue
            }
            let who = String(fields[0])
            let subject: UsernetEntry.Subject = who.hasPrefix("@") ? .group(String(who.dropFirst())) : .user(who)
            entries.append(UsernetEntry(subject: subject, type: String(fields[1]), bridge: String(fields[2]),
                                        count: count, line: i + 1))
        }
    }

    /// Interfaces the user may create per bridge: counts of every line naming the
    /// user or one of their groups are added up, as lxc-user-nic does. Only `veth`.
    public func allowance(user: String, groups: [String]) -> [(bridge: String, count: Int)] {
        var order: [String] = []
        var total: [String: Int] = [:]
        for e in entries where e.type == "veth" {
            let matches: Bool
            switch e.subject {
            case .user(let u): matches = u == user
            case .group(let g): matches = groups.contains(g)
            }
            guard matches else { continue }
            if total[e.bridge] == nil { order.append(e.bridge) }
            total[e.bridge, default: 0] += e.count
        }
        return order.map { ($0, total[$0]!) }
    }
}
