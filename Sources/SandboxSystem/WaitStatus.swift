/// A wait(2) status (WIFEXITED/WEXITSTATUS are macros Swift cannot see): in
/// words for the log, or as the shell's exit status.
package struct WaitStatus: CustomStringConvertible {
    package let raw: Int32
    package init(_ raw: Int32) { self.raw = raw }
    /// WIFEXITED: it exited rather than being killed by a signal.
    package var exited: Bool { raw & 0x7f == 0 }
    /// Exit status, or 128+signal (the shell's convention).
    package var shellStatus: Int32 { exited ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }
    package var description: String {
        exited ? "exit status \((raw >> 8) & 0xff)" : "killed by signal \(raw & 0x7f)"
    }
}
