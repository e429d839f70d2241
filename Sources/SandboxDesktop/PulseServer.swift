// Where the user's sound server is, found the way libpulse finds it: the
// desktop set-up relays to it and doctor asks it who it is.
import SandboxCore

/// The user's sound server as libpulse would find it: $PULSE_SERVER, else
/// $XDG_RUNTIME_DIR/pulse/native.
public struct PulseServer: Sendable, Equatable {
    /// For pa_context_connect: "unix:/run/user/1000/pulse/native", "tcp:host:4713", …
    public var address: String
    /// The socket file, when the server is a local unix socket (only those can be bound).
    public var socketPath: String?

    public static func host(_ env: [String: String]) throws(SandboxError) -> PulseServer {
        if let value = env["PULSE_SERVER"], !value.isEmpty {
            // A list of servers is allowed; the first one is what libpulse tries first.
            let first = String(value.split(separator: " ").first ?? "")
            if first.hasPrefix("unix:") { return PulseServer(address: first, socketPath: String(first.dropFirst(5))) }
            if first.hasPrefix("/") { return PulseServer(address: "unix:" + first, socketPath: first) }
            return PulseServer(address: first, socketPath: nil)
        }
        guard let runtime = env["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") else {
            throw SandboxError("cannot find the sound server: neither PULSE_SERVER nor XDG_RUNTIME_DIR is set",
                               hint: "log in through a session manager, or set pulse.mode = \"none\"")
        }
        let path = runtime + "/pulse/native"
        return PulseServer(address: "unix:" + path, socketPath: path)
    }
}
