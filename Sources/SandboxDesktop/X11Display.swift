import SandboxCore
import SandboxMediators

/// A local X display as named by $DISPLAY (":0", ":0.0", "unix:1", "/tmp/.X11-unix/X0").
/// Only local displays can be given to a container: a TCP display (ssh -X's
/// "localhost:10.0") is unreachable from a private network namespace, and the
/// abstract socket "@/tmp/.X11-unix/XN" is bound to the host's network
/// namespace, so the socket FILE is the only way in.
public struct X11Display: Sendable, Equatable {
    /// The display number N of :N.
    public var number: UInt32
    /// The value as given, for messages.
    public var name: String

    public static let socketDirectory = "/tmp/.X11-unix"

    /// The socket file /tmp/.X11-unix/XN.
    public var socketPath: String { "\(Self.socketDirectory)/X\(number)" }
    /// The DISPLAY value inside: always ":N" (screen 0), matching the bound socket.
    public var insideName: String { ":\(number)" }

    public init(number: UInt32, name: String) {
        self.number = number
        self.name = name
    }

    /// Parses a DISPLAY value; throws a message that says why it cannot be used.
    public static func parse(_ value: String) throws(SandboxError) -> X11Display {
        let hint = "use a local display such as DISPLAY=:0, or set x11.mode = \"none\" to run without X"
        if value.isEmpty { throw SandboxError("DISPLAY is empty", hint: hint) }
        // Full socket path form (some launchers and XQuartz use it).
        if value.hasPrefix(socketDirectory + "/X") {
            let digits = value.dropFirst(socketDirectory.count + 2)
            if let n = UInt32(digits) { return X11Display(number: n, name: value) }
            throw SandboxError("DISPLAY=\(value) is not an X socket path", hint: hint)
        }
        guard let colon = value.lastIndex(of: ":") else {
            throw SandboxError("DISPLAY=\(value) has no display number", hint: hint)
        }
        let host = value[..<colon]
        guard host.isEmpty || host == "unix" else {
            throw SandboxError("DISPLAY=\(value) is a network display; a sandboxed app has no route to it", hint: hint)
        }
        var rest = value[value.index(after: colon)...]
        if let dot = rest.firstIndex(of: ".") {
            guard UInt32(rest[rest.index(after: dot)...]) != nil else {
                throw SandboxError("DISPLAY=\(value) has a bad screen number", hint: hint)
            }
            rest = rest[..<dot]
        }
        guard let number = UInt32(rest) else {
            throw SandboxError("DISPLAY=\(value) has a bad display number", hint: hint)
        }
        return X11Display(number: number, name: value)
    }
}

// XauthEntry and XauthSelection live in SandboxMediators (Xauthority.swift):
// the supervisor's X11 proxy reads the user's cookie with them, without libXau.
public typealias XauthEntry = SandboxMediators.XauthEntry
public typealias XauthSelection = SandboxMediators.XauthSelection
