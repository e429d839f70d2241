// The host's process tree from /proc, for `sandbox status`: how many tasks a
// container runs. /proc/PID/stat and /proc/PID/status are readable for every
// process, so this needs no access to the container's (root-owned) init.
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

public struct ProcessTree: Sendable {
    /// pid → (parent pid, threads).
    public var processes: [Int32: (parent: Int32, threads: Int)]

    public init(processes: [Int32: (parent: Int32, threads: Int)]) { self.processes = processes }

    public static func current() -> ProcessTree {
        var out: [Int32: (parent: Int32, threads: Int)] = [:]
        guard let d = opendir("/proc") else { return ProcessTree(processes: out) }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), let status = HostFile.read("/proc/\(pid)/status") else { continue }
            var parent: Int32 = 0, threads = 1
            for line in status.split(separator: "\n") {
                if line.hasPrefix("PPid:") { parent = Int32(line.dropFirst(5).trimmingWhitespace) ?? 0 }
                if line.hasPrefix("Threads:") { threads = Int(line.dropFirst(8).trimmingWhitespace) ?? 1 }
            }
            out[pid] = (parent, threads)
        }
        return ProcessTree(processes: out)
    }

    /// Tasks of `root` and all its descendants (the init counts too).
    public func tasks(under root: Int32) -> Int? {
        guard let top = processes[root] else { return nil }
        var children: [Int32: [Int32]] = [:]
        for (pid, p) in processes { children[p.parent, default: []].append(pid) }
        var total = top.threads, queue = children[root] ?? []
        while let pid = queue.popLast() {
            total += processes[pid]?.threads ?? 0
            queue += children[pid] ?? []
        }
        return total
    }
}
