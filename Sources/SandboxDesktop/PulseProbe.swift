#if canImport(Glibc)
import Glibc
#endif
import CPulse
import SandboxCore

/// Whether the user's PulseAudio (or pipewire-pulse) server answers, and which it is.
public enum PulseProbe {
    public struct ServerInfo: Sendable, Equatable {
        /// e.g. "pulseaudio" or "PulseAudio (on PipeWire 0.3.65)".
        public var name: String
        public var version: String
        /// The address libpulse connected to, e.g. "/run/user/1000/pulse/native".
        public var address: String
        public init(name: String, version: String, address: String) {
            self.name = name
            self.version = version
            self.address = address
        }
        /// pipewire-pulse reports itself as "PulseAudio (on PipeWire …)".
        public var isPipeWire: Bool { name.contains("PipeWire") }
    }

    public enum Outcome: Sendable, Equatable {
        case reachable(ServerInfo)
        case unreachable(String)
    }

    /// Connects with pa_mainloop + pa_context (no autospawn) and asks for the server
    /// info; gives up after `timeoutMilliseconds` so a wedged server cannot hang doctor.
    public static func probe(timeoutMilliseconds: Int = 2000) -> Outcome {
        guard let loop = pa_mainloop_new() else { return .unreachable("pa_mainloop_new failed") }
        defer { pa_mainloop_free(loop) }
        guard let context = pa_context_new(pa_mainloop_get_api(loop), "sandbox doctor") else {
            return .unreachable("pa_context_new failed")
        }
        defer { pa_context_unref(context) }
        if pa_context_connect(context, nil, PA_CONTEXT_NOAUTOSPAWN, nil) < 0 {
            return .unreachable(String(cString: pa_strerror(pa_context_errno(context))))
        }
        defer { pa_context_disconnect(context) }
        let deadline = monotonicMicroseconds() + Int64(timeoutMilliseconds) * 1000

        /// Runs one loop iteration bounded by the deadline; false when time is up.
        func iterate() -> Bool {
            let remaining = deadline - monotonicMicroseconds()
            if remaining <= 0 { return false }
            if pa_mainloop_prepare(loop, Int32(clamping: remaining)) < 0 { return false }
            if pa_mainloop_poll(loop) < 0 { return false }
            return pa_mainloop_dispatch(loop) >= 0
        }

        while true {
            let state = pa_context_get_state(context)
            if state == PA_CONTEXT_READY { break }
            if state == PA_CONTEXT_FAILED || state == PA_CONTEXT_TERMINATED {
                return .unreachable(String(cString: pa_strerror(pa_context_errno(context))))
            }
            if !iterate() { return .unreachable("no answer within \(timeoutMilliseconds) ms") }
        }

        final class Reply { var info: ServerInfo?; var address = "" }
        let reply = Reply()
        reply.address = pa_context_get_server(context).map { String(cString: $0) } ?? ""
        let box = Unmanaged.passRetained(reply)
        defer { box.release() }
        let callback: pa_server_info_cb_t = { _, info, userdata in
            guard let info, let userdata else { return }
            let r = Unmanaged<Reply>.fromOpaque(userdata).takeUnretainedValue()
            r.info = ServerInfo(name: info.pointee.server_name.map { String(cString: $0) } ?? "",
                                version: info.pointee.server_version.map { String(cString: $0) } ?? "",
                                address: r.address)
        }
        guard let op = pa_context_get_server_info(context, callback, box.toOpaque()) else {
            return .unreachable(String(cString: pa_strerror(pa_context_errno(context))))
        }
        defer { pa_operation_unref(op) }
        while pa_operation_get_state(op) == PA_OPERATION_RUNNING {
            if !iterate() {
                pa_operation_cancel(op)
                return .unreachable("no server info within \(timeoutMilliseconds) ms")
            }
        }
        guard let info = reply.info else { return .unreachable("the server sent no info") }
        return .reachable(info)
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

    static func monotonicMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
