// veth networking (network.mode = "veth"), from the supervisor, after clone
// and before the child is released (ContainerHooks.beforeRelease):
//   1. open /proc/PID/ns/net of the container's init
//   2. SandboxNetHelper.create(bridge:netnsFD:) runs the setuid helper with
//      that fd as fd 3; the helper creates the veth pair on the bridge with
//      the peer born in the container's namespace and prints the lease
//   3. VethLease.configureContainerSide(containerPID:) forks (in C), joins
//      the container's user+net namespaces as their owner and sets lo up,
//      the address, MTU, link up and the default route
// The pair disappears with the container's network namespace; the helper
// reclaims the lease at its next call, so nothing is needed at teardown.
// ContainerNetwork.attachVeth does 1-3 in one call.
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// veth networking in one call, for the supervisor's beforeRelease hook.
public enum ContainerNetwork {
    /// Creates the pair for `containerPID`'s network namespace and configures the
    /// container's side; releases the pair again if configuring fails.
    public static func attachVeth(containerPID: Int32, bridge: String, containerInterface: String = "eth0",
                                  helper: SandboxNetHelper = .installed()) throws -> VethLease {
        let netns = open("/proc/\(containerPID)/ns/net", O_RDONLY | O_CLOEXEC)
        guard netns >= 0 else {
            throw SandboxError.system("cannot open the network namespace of container process \(containerPID)", errno: errno)
        }
        defer { close(netns) }
        let lease = try helper.create(bridge: bridge, containerInterface: containerInterface, netnsFD: netns)
        do {
            try lease.configureContainerSide(containerPID: containerPID)
        } catch {
            try? helper.release(bridge: bridge, hostInterface: lease.hostInterface)
            throw error
        }
        return lease
    }
}
