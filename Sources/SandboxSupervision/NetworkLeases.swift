// What the network helper (sandbox-net) hands out and reports, as values: a
// veth lease parsed exactly from its one output line (and configuring the
// container's side of it), and the bridges /etc/sandbox/usernet grants.
import CSandboxNet
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 address in network byte order, as the kernel and sbxnet_configure_iface take it.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    public var networkOrder: UInt32
    public init(networkOrder: UInt32) { self.networkOrder = networkOrder }
    /// Strict dotted quad ("10.0.3.2"; no leading zeros, no spaces).
    public init?(_ text: String) {
        var be: UInt32 = 0
        let rc = text.withCString { sbxnet_parse_ipv4($0, strlen($0), &be) }
        guard rc == 0 else { return nil }
        networkOrder = be
    }
    public var description: String {
        var buf = [CChar](repeating: 0, count: 16)
        sbxnet_format_ipv4(networkOrder, &buf)
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// One veth pair handed out by sandbox-net, parsed from its single output line:
/// `host=sbx1000a0 container=eth0 address=10.0.3.2/24 gateway=10.0.3.1 mtu=1500`.
public struct VethLease: Sendable, Equatable {
    public var hostInterface: String
    public var containerInterface: String
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address
    public var mtu: Int

    public init(hostInterface: String, containerInterface: String, address: IPv4Address, prefixLength: Int,
                gateway: IPv4Address, mtu: Int) {
        self.hostInterface = hostInterface
        self.containerInterface = containerInterface
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.mtu = mtu
    }

    /// Exactly the five keys, in order; anything else is nil.
    public init?(helperOutput line: some StringProtocol) {
        var text = Substring(line)
        if text.hasSuffix("\n") { text = text.dropLast() }
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        let keys = ["host", "container", "address", "gateway", "mtu"]
        guard fields.count == keys.count else { return nil }
        var values: [String] = []
        for (field, key) in zip(fields, keys) {
            guard field.hasPrefix(key + "=") else { return nil }
            values.append(String(field.dropFirst(key.count + 1)))
        }
        let cidr = values[2].split(separator: "/", omittingEmptySubsequences: false)
        guard sbxnet_valid_ifname(values[0]) == 1, sbxnet_valid_ifname(values[1]) == 1,
              cidr.count == 2, let address = IPv4Address(String(cidr[0])),
              let prefix = Int(cidr[1]), (1...32).contains(prefix), String(prefix) == cidr[1],
              let gateway = IPv4Address(values[3]),
              let mtu = Int(values[4]), (68...65535).contains(mtu), String(mtu) == values[4]
        else { return nil }
        self.init(hostInterface: values[0], containerInterface: values[1], address: address,
                  prefixLength: prefix, gateway: gateway, mtu: mtu)
    }

    /// The helper's line for this lease (the inverse of `init(helperOutput:)`).
    public var helperOutput: String {
        "host=\(hostInterface) container=\(containerInterface) address=\(address)/\(prefixLength) gateway=\(gateway) mtu=\(mtu)"
    }

    /// Configures the container's side from outside: a forked C child joins the
    /// container's user and network namespaces (the caller owns them) and sets
    /// lo up, the address, the MTU, the link up and the default route.
    /// Works before the id maps are written.
    public func configureContainerSide(containerPID: Int32) throws {
        let user = open("/proc/\(containerPID)/ns/user", O_RDONLY | O_CLOEXEC)
        let net = open("/proc/\(containerPID)/ns/net", O_RDONLY | O_CLOEXEC)
        defer {
            if user >= 0 { close(user) }
            if net >= 0 { close(net) }
        }
        guard user >= 0, net >= 0 else {
            throw SandboxError.system("cannot open the namespaces of container process \(containerPID)", errno: errno)
        }
        try configureContainerSide(userNamespaceFD: user, networkNamespaceFD: net)
    }

    public func configureContainerSide(userNamespaceFD: Int32, networkNamespaceFD: Int32) throws {
        let rc = sbxnet_configure_in_namespaces(userNamespaceFD, networkNamespaceFD, containerInterface,
                                                address.networkOrder, Int32(prefixLength),
                                                gateway.networkOrder, Int32(mtu))
        guard rc == 0 else {
            throw SandboxError.system("cannot configure \(containerInterface) (\(address)/\(prefixLength) via \(gateway)) in the container", errno: -rc)
        }
    }
}

/// One line of `sandbox-net check`: a bridge the caller may use, for `sandbox doctor`.
public struct BridgeGrant: Sendable, Equatable {
    public var bridge: String
    public var quota: Int
    public var used: Int
    /// "ok", "missing", "not-a-bridge", "no-address" or "subnet-too-small".
    public var state: String
    /// The bridge's address/prefix ("10.0.3.1/24"), nil when unusable.
    public var gateway: String?
}
