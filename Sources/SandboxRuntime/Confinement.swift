// The seccomp filter the engine's C child loads last, just before exec, computed
// in the parent (the child drops every capability and sets no_new_privs itself).
import SandboxCore

/// The app's confinement for one launch.
public struct Confinement: Sendable, Equatable {
    /// Raw `struct sock_filter` array for seccomp(SECCOMP_SET_MODE_FILTER);
    /// empty only for `seccomp.profile = "none"`.
    public var seccompFilter: [UInt8]
    /// Warnings to print once at start (e.g. the filter is off).
    public var notices: [String]

    /// Throws ProfileErrors (bad seccomp.allow/deny names, naming the key) or
    /// SandboxError (libseccomp or /proc failures).
    public init(profile: Profile) throws {
        let policy = SeccompPolicy(profile.seccomp, sourcePath: profile.sourcePath)
        seccompFilter = try policy.compile()
        notices = policy.notices
    }
}
