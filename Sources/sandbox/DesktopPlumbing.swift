import ArgumentParser
import SandboxCore
import SandboxDesktop
#if canImport(Glibc)
import Glibc
#endif

/// `sandbox _desktop start|stop NAME`: the desktop plumbing on its own, without
/// a container. Hidden; for integration tests of the real X server and sound
/// server, and for debugging a profile's X/sound set-up ("what would the app get?").
struct DesktopPlumbing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_desktop",
        abstract: "Set up or tear down a container's X11/PulseAudio/device access without starting it (debugging).",
        shouldDisplay: false,
        subcommands: [Start.self, Stop.self]
    )

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Run the desktop set-up for NAME and print the mounts, environment and notices it adds.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The container name (its state dir is $XDG_RUNTIME_DIR/sandbox/NAME).") var name: String
        @Option(help: "x11.mode: none, trusted, untrusted.") var x11: String = "none"
        @Option(help: "pulse.mode: none, module, socket, unfiltered-host-socket.") var pulse: String = "none"
        @Flag(help: "wayland.enabled") var wayland = false
        @Option(help: "Devices to pass: dri, snd, video (repeatable).") var device: [String] = []
        @Flag(help: "Set devices.required and pulse.required (x11.required is the default).") var required = false

        func run() throws {
            _ = try global.bootstrap()
            var profile = Profile(name: name, sourcePath: "(command line)")
            guard let x = Profile.X11.Mode(rawValue: x11) else { throw ValidationError("--x11 must be none, trusted or untrusted") }
            guard let p = Profile.Pulse.Mode(rawValue: pulse) else { throw ValidationError("--pulse must be none, module, socket or unfiltered-host-socket") }
            profile.x11.mode = x
            profile.pulse.mode = p
            profile.wayland.enabled = wayland
            if required {   // otherwise the profile defaults: X required, sound and devices optional
                profile.x11.required = true
                profile.pulse.required = true
                profile.devices.required = true
            }
            for d in device {
                switch d {
                case "dri": profile.devices.dri = true
                case "snd": profile.devices.snd = true
                case "video": profile.devices.video = true
                default: profile.devices.extra.append(d)
                }
            }
            let env = Environment.current
            let user = UserIdentity.current(environment: env)
            let paths = Paths.current(environment: env, user: user)
            let session = try DesktopSetUp(profile: profile, user: user, hostEnvironment: env,
                                           stateDir: paths.stateDir(name)).start()
            Console.out("state-dir \(paths.stateDir(name))")
            for m in session.additions.mounts { Console.out("mount \(m)") }
            for (k, v) in session.additions.environment.sorted(by: { $0.key < $1.key }) { Console.out("env \(k)=\(v)") }
            for g in session.additions.supplementaryGroups { Console.out("group \(g)") }
            for n in session.additions.notices + session.additions.onceNotices { Console.out("notice \(n)") }
            if let s = session.additions.sound {
                Console.out("sound socket=\(s.socketPath) upstream=\(s.upstream) microphone=\(s.microphone)")
            }
            if let x = session.additions.x11 {   // what the supervisor's X11 proxy would be given
                Console.out("x11-proxy display=\(x.display) server=\(x.serverSocket) socket=\(x.proxySocket) xauthority=\(x.containerXauthority) user-xauthority=\(x.userXauthority)")
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Undo NAME's desktop set-up (remove its files) and print what was done.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The container name.") var name: String

        func run() throws {
            _ = try global.bootstrap()
            let env = Environment.current
            let paths = Paths.current(environment: env)
            let stateDir = paths.stateDir(name)
            for line in DesktopTeardown(stateDir: stateDir, hostEnvironment: env).run() { Console.out(line) }
            rmdir(stateDir)   // only if empty: a running container's files stay
        }
    }
}
