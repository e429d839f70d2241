// Builds the sound mediator from the plan's data (LaunchPlan.sound). Kept apart
// from the supervisor's story so it moves with the mediators when the
// supervisor becomes its own small executable.
import Logging
import SandboxPlan
import SandboxMediators

public enum SoundMediator {
    /// Creates the container's sound socket (listening, before the spawn, so it
    /// exists when the first app starts) and the proxy that serves it.
    public static func make(_ sound: SoundMediation) throws(SandboxError) -> SoundProxy {
        do {
            let proxy = try SoundProxy(listeningAt: sound.socketPath, upstream: sound.upstream, microphone: sound.microphone)
            proxy.note = { log.debug("\($0)") }
            log.debug("sound: mediator listening at \(sound.socketPath), relaying to \(sound.upstream), microphone \(sound.microphone ? "on" : "off")")
            return proxy
        } catch {
            throw SandboxError("the sound mediator: \(error.description)", hint: "set pulse.mode = \"none\" to start without sound")
        }
    }
}
