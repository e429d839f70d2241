// What `list` and `status` show of a container: its state read from the
// state directory, its session count asked of its init, its task count.
import SandboxCore

public struct ContainerDescription: Sendable, Equatable {
    public var name: String
    public var state: String
    public var pid: Int32?
    public var sessions: Int
    public var persistent: Bool
    public var profile: String?
    /// Tasks (processes and threads) in the container, and its [limits] processes.
    public var tasks: Int? = nil
    public var taskLimit: Int? = nil

    public var json: String {
        let q = JSONText.quote
        return "{\"name\":\(q(name)),\"state\":\(q(state)),\"pid\":\(pid.map(String.init) ?? "null"),\"sessions\":\(sessions),\"persistent\":\(persistent),\"profile\":\(profile.map(q) ?? "null"),\"tasks\":\(tasks.map(String.init) ?? "null"),\"task_limit\":\(taskLimit.map(String.init) ?? "null")}"
    }
}

extension Launcher {
    /// Running containers for `list` and `status`.
    public static func describe(_ directory: ContainerDirectory, name: String) -> ContainerDescription {
        switch directory.status(name) {
        case .notRunning: return ContainerDescription(name: name, state: "stopped", pid: nil, sessions: 0, persistent: false, profile: nil)
        case .stale: return ContainerDescription(name: name, state: "stale", pid: nil, sessions: 0, persistent: false, profile: nil)
        case .running(let s):
            let q = ControlConnection.queryStatus(path: directory.controlSocket(name))
            var d = ContainerDescription(name: name, state: q?.stopping == true ? "stopping" : "running", pid: s.initPid,
                                         sessions: Int(q?.sessions ?? 0), persistent: s.persistent, profile: s.profilePath)
            d.tasks = ProcessTree.current().tasks(under: s.initPid)
            d.taskLimit = directory.recordedPlan(name)?.plan.processLimit
            return d
        }
    }
}
