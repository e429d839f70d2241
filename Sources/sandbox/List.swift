import ArgumentParser
import SandboxCore
import SandboxRuntime

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List running containers: NAME STATE PID SESSIONS."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        _ = try global.bootstrap()
        let directory = CommandContext.current().directory
        let rows = directory.names().map { Launcher.describe(directory, name: $0) }.filter { $0.state != "stopped" }
        if json {
            Console.out("[" + rows.map(\.json).joined(separator: ",") + "]")
            return
        }
        var lines = [("NAME", "STATE", "PID", "SESSIONS")]
        lines += rows.map { ($0.name, $0.state, $0.pid.map(String.init) ?? "-", String($0.sessions)) }
        let w0 = lines.map(\.0.count).max() ?? 4, w1 = lines.map(\.1.count).max() ?? 5, w2 = lines.map(\.2.count).max() ?? 3
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        Console.out(lines.map { "\(pad($0.0, w0))  \(pad($0.1, w1))  \(pad($0.2, w2))  \($0.3)" }.joined(separator: "\n"))
    }
}
