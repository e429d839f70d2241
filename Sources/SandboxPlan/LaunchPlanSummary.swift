// One line describing a plan, for the debug log of the launch path.

extension NamespaceSet {
    /// "user mount pid ipc uts net cgroup", in clone order.
    public var names: String {
        let all: [(NamespaceSet, String)] = [(.user, "user"), (.mount, "mount"), (.pid, "pid"), (.ipc, "ipc"),
                                             (.uts, "uts"), (.net, "net"), (.cgroup, "cgroup")]
        return all.filter { contains($0.0) }.map(\.1).joined(separator: " ")
    }
}

extension LaunchPlan {
    /// "namespaces [user mount …], uid map [1000 1000 1, …], gid map […], 42 mounts, 1 notice, seccomp 160 instructions"
    public var summary: String {
        func map(_ m: [IDMapping]) -> String { "[" + m.map(\.description).joined(separator: ", ") + "]" }
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        return "namespaces [\(namespaces.names)], uid map \(map(uidMap)), gid map \(map(gidMap)), "
            + "\(count(mounts.count, "mount")), \(count(notices.count, "notice")), "
            + "seccomp \(seccompFilter.count / 8) instructions, argv \(argv.first ?? "(none)")"
            + (dbus.map { ", bus proxy as \($0.appID)" + ($0.documents != nil ? " with its documents" : "") } ?? "")
    }
}
