#if canImport(Glibc)
import Glibc
#endif
import SandboxCore
import SandboxMediators

/// Whether the user's PulseAudio (or pipewire-pulse) server answers, and which
/// it is: one native-protocol exchange in pure Swift (SandboxMediators'
/// `PulseClient`), no libpulse. The server is the one the sound mediator
/// relays to (`PulseServer.host`).
public enum PulseProbe {
    public struct ServerInfo: Sendable, Equatable {
        /// e.g. "pulseaudio" or "PulseAudio (on PipeWire 0.3.65)".
        public var name: String
        public var version: String
        /// The socket it answered on, e.g. "/run/user/1000/pulse/native".
        public var address: String
        public init(name: String, version: String, address: String) {
            self.name = name
            self.version = version
            self.address = address
        }
    }

    public enum Outcome: Sendable, Equatable {
        case reachable(ServerInfo)
        case unreachable(String)
    }

    /// Connects to the server `environment` names, authenticates as the user
    /// (cookie and credentials), asks for the server info; gives up after
    /// `timeoutMilliseconds` so a wedged server cannot hang doctor.
    public static func probe(environment: [String: String], home: String, timeoutMilliseconds: Int = 2000) -> Outcome {
        let server: PulseServer
        do { server = try PulseServer.host(environment) } catch { return .unreachable(error.message) }
        guard let socket = server.socketPath else {
            return .unreachable("\(server.address) is not a local unix socket, which is all the sound mediator relays to")
        }
        do throws(PulseClientError) {
            let info = try PulseClient.serverInfo(socket: socket, cookie: cookie(environment: environment, home: home),
                                                  clientName: "sandbox doctor", timeoutMilliseconds: timeoutMilliseconds)
            return .reachable(ServerInfo(name: info.name, version: info.version, address: socket))
        } catch {
            return .unreachable(error.description)
        }
    }

    /// The user's cookie where libpulse looks for it: $PULSE_COOKIE, else
    /// $XDG_CONFIG_HOME/pulse/cookie (~/.config/pulse/cookie), else
    /// ~/.pulse-cookie. None (or not 256 bytes): zeros, and the server decides
    /// by our credentials, as it does for libpulse without a cookie.
    static func cookie(environment: [String: String], home: String) -> [UInt8] {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config"
        var candidates = [config + "/pulse/cookie", home + "/.pulse-cookie"]
        if let path = environment["PULSE_COOKIE"], !path.isEmpty { candidates.insert(path, at: 0) }
        for path in candidates {
            if case .success(let bytes) = HostFile.readBytes(path, limit: 4096), bytes.count >= PulseClient.cookieLength {
                return Array(bytes.prefix(PulseClient.cookieLength))
            }
        }
        return [UInt8](repeating: 0, count: PulseClient.cookieLength)
    }

    public static func assess(_ outcome: Outcome) -> DoctorCheck {
        switch outcome {
        case .unreachable(let why):
            return DoctorCheck("pulseaudio", .warn, "server unreachable (\(why)); apps with pulse.mode other than \"none\" start without sound",
                               hint: "start it (systemctl --user start pulseaudio.socket, or pipewire-pulse.socket) and check XDG_RUNTIME_DIR / PULSE_SERVER")
        case .reachable(let s):
            // Both PulseAudio and pipewire-pulse are reached through the sound mediator.
            return DoctorCheck("pulseaudio", .ok, "\(s.name) \(s.version) at \(s.address); apps reach it through the sound mediator (per-app sockets)")
        }
    }
}
