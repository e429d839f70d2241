// A started container's desktop access, as values: applied to the LaunchPlan
// before the spawn (mounts, environment, groups, the mediators' part), and
// undone through DesktopTeardown when the container stops.
import SandboxCore

/// A started container's desktop access: what to add to its LaunchPlan, and how to undo it.
public struct DesktopSession: Sendable {
    public let additions: DesktopAdditions
    let profile: Profile
    let setUp: DesktopSetUp

    /// Adds the mounts after the engine's base filesystem (but before its final
    /// read-only remounts), notices and groups; sets the desktop variables in
    /// the plan's environment unless the profile's [env] sets them (profile wins).
    /// Works on the environment the engine built (LaunchPlanner.environment).
    public func apply(to plan: inout LaunchPlan) {
        var insertAt = plan.mounts.endIndex
        while insertAt > plan.mounts.startIndex, case .remountReadonly = plan.mounts[insertAt - 1] { insertAt -= 1 }
        plan.mounts.insert(contentsOf: additions.mounts, at: insertAt)
        plan.notices += additions.notices
        plan.onceNotices += additions.onceNotices
        if let sound = additions.sound { plan.sound = sound }
        plan.x11 = additions.x11
        plan.notices += Self.groupNotices(additions, plan: &plan, userName: setUp.user.name)
        plan.environment = Self.merge(plan.environment, desktop: additions.environment, profile: profile.env)
    }

    /// Keeps the device groups the gid map maps 1:1 (IDMapPlanner maps the user's
    /// groups that /etc/subgid delegates) and returns a notice for each other one,
    /// naming the /etc/subgid line an administrator would add. Without setgroups
    /// (a gid map of only the user's own gid) nothing is dropped: the sessions keep
    /// the launcher's groups as they are, so there is nothing to say.
    static func groupNotices(_ additions: DesktopAdditions, plan: inout LaunchPlan, userName: String) -> [String] {
        guard plan.setgroupsAllowed else { return [] }
        let (mapped, unmapped) = DesktopLayout.partitionGroups(additions.supplementaryGroups, gidMap: plan.gidMap)
        plan.supplementaryGroups = Array(Set(plan.supplementaryGroups + mapped)).sorted()
        return unmapped.map { gid in
            let name = additions.groupNames[gid].map { "\($0) (\(gid))" } ?? "\(gid)"
            let devices = additions.groupDevices[gid] ?? []
            let shown = devices.prefix(3).joined(separator: ", ") + (devices.count > 3 ? " and \(devices.count - 3) more" : "")
            return "devices: your group \(name), which owns \(shown.isEmpty ? "the devices" : shown), is not delegated to you in /etc/subgid, "
                + "so the app is not a member of it and reaches those devices only through an ACL for your user "
                + "(systemd-logind's uaccess gives one to the active seat's user); "
                + "to keep the group, an administrator adds this line to /etc/subgid: \(userName):\(gid):1"
        }
    }

    /// Sets each desktop variable in a "K=V" list, keeping order, unless the profile sets it.
    static func merge(_ env: [String], desktop: [String: String], profile: [String: String]) -> [String] {
        var result = env
        for (key, value) in desktop.sorted(by: { $0.key < $1.key }) where profile[key] == nil {
            let entry = key + "=" + value
            if let i = result.firstIndex(where: { $0.hasPrefix(key + "=") }) { result[i] = entry } else { result.append(entry) }
        }
        return result
    }

    /// Undoes start(): revokes the container's untrusted X cookie, removes its
    /// files (the sound mediator's socket and client.conf among them). Safe to call twice, or from another
    /// process (everything is read back from the state dir).
    public func stop() {
        for line in DesktopTeardown(stateDir: setUp.stateDir, hostEnvironment: setUp.hostEnvironment).run() {
            log.debug("\(line)")
        }
    }
}
