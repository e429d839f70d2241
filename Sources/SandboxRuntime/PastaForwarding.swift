// pasta's forwarding options, planned from the profile by the launcher and
// handed to the supervisor in the plan (NetworkAttachment.pasta).
import SandboxCore
import SandboxSupervision

extension PastaProcess {
    /// pasta's forwarding options for a profile: `outboundOnly`, opened only for the
    /// ports the profile names. `inbound_*`: pasta listens on the host's 127.0.0.1
    /// only (`-t 127.0.0.1/PORT`, never every interface) and forwards into the
    /// container; `host_loopback_*`: the container's 127.0.0.1:PORT leads to the
    /// host's (`-T PORT`). Pure: tested without pasta.
    public static func arguments(for network: Profile.Network) -> [String] {
        var args = ["--no-map-gw"]
        for (flag, ports) in [("-t", network.inboundTCP), ("-u", network.inboundUDP)] {
            if ports.isEmpty { args += [flag, "none"] } else { for p in ports { args += [flag, "127.0.0.1/\(p)"] } }
        }
        for (flag, ports) in [("-T", network.hostLoopbackTCP), ("-U", network.hostLoopbackUDP)] {
            args += [flag, ports.isEmpty ? "none" : ports.map(String.init).joined(separator: ",")]
        }
        return args
    }
}
