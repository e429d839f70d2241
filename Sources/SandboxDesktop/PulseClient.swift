import CPulse
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// A module as the sound server lists it.
public struct PulseModule: Sendable, Equatable {
    public var index: UInt32
    public var name: String
    public var argument: String
}

/// A blocking libpulse client over a plain pa_mainloop, driven here with a
/// deadline: every wait runs prepare(timeout)/poll/dispatch until the operation
/// finishes or the deadline passes, so a hung server gives an error, never a
/// hang. Not for use from several threads (the launcher is single-threaded here).
public final class PulseClient {
    private let loop: OpaquePointer
    private let context: OpaquePointer
    /// The server string connected to, for messages ("unix:/run/user/1000/pulse/native").
    public let server: String
    private let deadline: Double

    /// Connects to `server` without autospawn; `timeout` bounds everything this client does.
    public init(server: String, timeout: Double = 5) throws(SandboxError) {
        self.server = server
        deadline = Self.now() + timeout
        guard let loop = pa_mainloop_new() else { throw SandboxError("libpulse: cannot create a main loop") }
        guard let context = pa_context_new(pa_mainloop_get_api(loop), "sandbox") else {
            pa_mainloop_free(loop)
            throw SandboxError("libpulse: cannot create a context")
        }
        self.loop = loop
        self.context = context
        guard pa_context_connect(context, server, PA_CONTEXT_NOAUTOSPAWN, nil) >= 0 else {
            throw SandboxError("cannot connect to the sound server at \(server): \(lastError())",
                               hint: "is PulseAudio (or pipewire-pulse) running? set pulse.mode = \"none\" to run without sound")
        }
        try iterate(while: {
            let state = pa_context_get_state(context)
            return state != PA_CONTEXT_READY && state != PA_CONTEXT_FAILED && state != PA_CONTEXT_TERMINATED
        }, doing: "connecting")
        guard pa_context_get_state(context) == PA_CONTEXT_READY else {
            throw SandboxError("cannot connect to the sound server at \(server): \(lastError())",
                               hint: "is PulseAudio (or pipewire-pulse) running? set pulse.mode = \"none\" to run without sound")
        }
    }

    deinit {
        pa_context_disconnect(context)
        pa_context_unref(context)
        pa_mainloop_free(loop)
    }

    /// "PulseAudio" or "PulseAudio (on PipeWire 0.3.65)", with the version.
    public func serverName() throws(SandboxError) -> String {
        let box = ResultBox<String>()
        let op = pa_context_get_server_info(context, { _, info, userdata in
            let box = Unmanaged<ResultBox<String>>.fromOpaque(userdata!).takeUnretainedValue()
            if let info {
                box.value = String(cString: info.pointee.server_name) + " " + String(cString: info.pointee.server_version)
            }
            box.done = true
        }, Unmanaged.passUnretained(box).toOpaque())
        try wait(op, box, doing: "asking for the server's name")
        return box.value ?? "unknown server"
    }

    /// Loads a module; nil when the server refuses (a missing or failing module).
    public func loadModule(_ name: String, argument: String) throws(SandboxError) -> UInt32? {
        let box = ResultBox<UInt32>()
        let op = pa_context_load_module(context, name, argument, { _, index, userdata in
            let box = Unmanaged<ResultBox<UInt32>>.fromOpaque(userdata!).takeUnretainedValue()
            box.value = index
            box.done = true
        }, Unmanaged.passUnretained(box).toOpaque())
        try wait(op, box, doing: "loading \(name)")
        guard let index = box.value, index != UInt32.max /* PA_INVALID_INDEX */ else { return nil }
        return index
    }

    /// Every loaded module.
    public func modules() throws(SandboxError) -> [PulseModule] {
        let box = ResultBox<[PulseModule]>()
        box.value = []
        let op = pa_context_get_module_info_list(context, { _, info, eol, userdata in
            let box = Unmanaged<ResultBox<[PulseModule]>>.fromOpaque(userdata!).takeUnretainedValue()
            if eol != 0 { box.done = true; return }
            guard let info else { return }
            box.value?.append(PulseModule(
                index: info.pointee.index,
                name: info.pointee.name.map { String(cString: $0) } ?? "",
                argument: info.pointee.argument.map { String(cString: $0) } ?? ""))
        }, Unmanaged.passUnretained(box).toOpaque())
        try wait(op, box, doing: "listing modules")
        return box.value ?? []
    }

    /// Unloads module `index`; false when the server refused (already gone).
    public func unloadModule(_ index: UInt32) throws(SandboxError) -> Bool {
        let box = ResultBox<Bool>()
        let op = pa_context_unload_module(context, index, { _, success, userdata in
            let box = Unmanaged<ResultBox<Bool>>.fromOpaque(userdata!).takeUnretainedValue()
            box.value = success != 0
            box.done = true
        }, Unmanaged.passUnretained(box).toOpaque())
        try wait(op, box, doing: "unloading module \(index)")
        return box.value ?? false
    }

    // MARK: - the loop

    /// Callback results land here; callbacks run inside dispatch on this thread.
    private final class ResultBox<T> {
        var value: T?
        var done = false
    }

    private func wait<T>(_ op: OpaquePointer?, _ box: ResultBox<T>, doing what: String) throws(SandboxError) {
        guard let op else { throw SandboxError("sound server at \(server): \(what) failed: \(lastError())") }
        defer { pa_operation_unref(op) }
        try iterate(while: { !box.done && pa_operation_get_state(op) == PA_OPERATION_RUNNING }, doing: what)
        if !box.done {
            throw SandboxError("sound server at \(server): \(what) failed: \(lastError())")
        }
    }

    private func iterate(while busy: () -> Bool, doing what: String) throws(SandboxError) {
        while busy() {
            let left = deadline - Self.now()
            guard left > 0 else {
                throw SandboxError("the sound server at \(server) did not answer in time (\(what))",
                                   hint: "is the sound server hung? restart it, or set pulse.mode = \"none\" to run without sound")
            }
            if pa_mainloop_prepare(loop, Int32(min(left, 0.25) * 1_000_000)) < 0
                || pa_mainloop_poll(loop) < 0
                || pa_mainloop_dispatch(loop) < 0 {
                throw SandboxError("sound server at \(server): the connection broke while \(what): \(lastError())")
            }
            let state = pa_context_get_state(context)
            if state == PA_CONTEXT_FAILED || state == PA_CONTEXT_TERMINATED { return }
        }
    }

    private func lastError() -> String { String(cString: pa_strerror(pa_context_errno(context))) }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
