// The launcher's own terminal in raw mode while a pty session runs, so every
// key (Ctrl-C among them) goes to the app's pty instead of acting on the launcher.
#if canImport(Glibc)
import Glibc
#endif

/// The terminal of the launcher, in raw mode while a pty session runs.
final class RawTerminal {
    var saved = termios()
    var active = false
    init(fd: Int32) {
        guard tcgetattr(fd, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)
        active = tcsetattr(fd, TCSANOW, &raw) == 0
    }
    func restore() {
        if active { tcsetattr(0, TCSADRAIN, &saved) }
        active = false
    }
    deinit { restore() }
}
