// User and group names without NSS in this process.
//
// The launcher is linked static-pie: no dynamic loader or symbol binding on each
// start (`sandbox --version` 2.8 -> 1.7 ms, a join 5.0 -> 4.0 ms in one make bench).
// glibc's static NSS answers from /etc/passwd and /etc/group by itself, but for an
// id those files do not name it dlopens the next module of nsswitch.conf (systemd,
// sss, ldap) into the static binary, and that crashes (SIGSEGV with libnss_systemd,
// seen here). So nothing in the launcher calls getpwuid or getgrgid: the files are
// read here, and an id they do not name is asked of getent(1), a dynamic program
// that loads the host's modules as every other tool does. Only accounts from a
// directory service pay for that process.
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

public enum Accounts {
    /// A passwd record.
    public struct User: Sendable, Equatable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
        public var shell: String
    }

    /// The account of `uid`: the passwd file first, then getent.
    public static func user(uid: UInt32, passwd: String = "/etc/passwd") -> User? {
        if let text = HostFile.read(passwd), let user = user(uid: uid, in: text) { return user }
        return getent("passwd", uid).flatMap(user(record:))
    }

    /// The name of group `gid`: the group file first, then getent.
    public static func groupName(gid: UInt32, group: String = "/etc/group") -> String? {
        if let text = HostFile.read(group), let name = groupName(gid: gid, in: text) { return name }
        return getent("group", gid).flatMap(groupName(record:))
    }

    /// The first record of `uid` in passwd-format text, as glibc's files service answers.
    public static func user(uid: UInt32, in text: String) -> User? {
        firstRecord(id: uid, in: text, as: user(record:))
    }

    /// The first record of `gid` in group-format text.
    public static func groupName(gid: UInt32, in text: String) -> String? {
        firstRecord(id: gid, in: text, as: groupName(record:))
    }

    /// The first line whose third field is `id` and that `decode` accepts. Only that
    /// line is split into fields: every start looks up the user, and /etc/passwd
    /// can be long. MountPlanner asks it whether an image's files name an id.
    static func firstRecord<T>(id: UInt32, in text: String, as decode: ([Substring]) -> T?) -> T? {
        for line in text.byteSplit("\n") where thirdField(of: line).flatMap({ UInt32($0) }) == id {
            if let value = decode(line.byteSplit(":", omittingEmptySubsequences: false)) { return value }
        }
        return nil
    }

    /// The third colon-separated field of a line, nil when it has fewer than three.
    static func thirdField(of line: Substring) -> Substring? {
        let colon = UInt8(ascii: ":")
        let bytes = line.utf8
        guard let first = bytes.firstIndex(of: colon),
              let second = bytes[bytes.index(after: first)...].firstIndex(of: colon) else { return nil }
        let start = bytes.index(after: second)
        return line[start..<(bytes[start...].firstIndex(of: colon) ?? bytes.endIndex)]
    }

    static func user(record f: [Substring]) -> User? {
        guard f.count >= 7, !f[0].isEmpty, let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
        return User(name: String(f[0]), uid: uid, gid: gid, home: String(f[5]), shell: String(f[6]))
    }

    static func groupName(record f: [Substring]) -> String? {
        guard f.count >= 3, !f[0].isEmpty, UInt32(f[2]) != nil else { return nil }
        return String(f[0])
    }

    /// `getent DATABASE ID`'s record, split at the colons; nil when it names none
    /// (exit 2) or cannot run. Stdin is /dev/null and its stderr is dropped.
    static func getent(_ database: String, _ id: UInt32) -> [Substring]? {
        let candidates: [String] = ["/usr/bin/getent", "/bin/getent"]
        guard let program = candidates.first(where: { access($0, X_OK) == 0 }),
              let result = try? HostCommand([program, database, String(id)]).run(passing: []),
              result.succeeded,
              let record = result.output.colonRecords().first,
              record.count >= 3, UInt32(record[2]) == id
        else { return nil }
        return record
    }
}
