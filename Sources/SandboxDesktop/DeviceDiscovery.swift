import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// A device node found on the host.
public struct DeviceNode: Sendable, Equatable {
    /// Path on the host (the bind source).
    public var source: String
    /// Path inside the container, always under /dev (/dev/dri/renderD128).
    public var path: String
    /// Owning group, so the user's membership (video, render, audio) can be kept.
    public var gid: UInt32
}

/// Finds the device nodes a profile's [devices] asks for under a /dev tree.
/// Reads directories only; binding them is the engine's job.
public struct DeviceDiscovery: Sendable {
    /// The host's /dev (a temporary tree in tests).
    public var root: String
    /// Accept regular files as nodes: only for unit tests on a temp tree, where
    /// creating character devices needs root.
    public var acceptRegularFiles: Bool

    public init(root: String = "/dev", acceptRegularFiles: Bool = false) {
        self.root = root
        self.acceptRegularFiles = acceptRegularFiles
    }

    /// One requested class of devices and what was found for it.
    public struct Found: Sendable, Equatable {
        /// "devices.dri", "devices.snd", "devices.video", "devices.extra"
        public var key: String
        /// What was looked for, for the "not present" notice.
        public var wanted: String
        public var nodes: [DeviceNode]
    }

    /// Everything `devices` asks for; classes with nothing present have empty `nodes`.
    public func discover(_ devices: Profile.Devices) -> [Found] {
        var result: [Found] = []
        if devices.dri {
            // GPU: DRM nodes, plus the NVIDIA proprietary driver's nodes, which
            // live beside them in /dev and which GL/Vulkan also need.
            var nodes = nodesIn("dri")
            nodes += entries(root).filter { $0.hasPrefix("nvidia") }.sorted().flatMap { name -> [DeviceNode] in
                let path = root + "/" + name
                return isDirectory(path) ? nodesIn(name) : node(path).map { [$0] } ?? []
            }
            result.append(Found(key: "devices.dri", wanted: root + "/dri", nodes: nodes))
        }
        if devices.snd {
            result.append(Found(key: "devices.snd", wanted: root + "/snd", nodes: nodesIn("snd")))
        }
        if devices.video {
            let nodes = entries(root).filter { $0.hasPrefix("video") && $0.dropFirst(5).allSatisfy(\.isNumber) }
                .sorted { (Int($0.dropFirst(5)) ?? 0) < (Int($1.dropFirst(5)) ?? 0) }
                .compactMap { node(root + "/" + $0) }
            result.append(Found(key: "devices.video", wanted: root + "/video*", nodes: nodes))
        }
        for extra in devices.extra {
            let path = hostPath(extra)
            let nodes = isDirectory(path) ? nodesIn(String(path.dropFirst(root.count + 1))) : node(path).map { [$0] } ?? []
            result.append(Found(key: "devices.extra", wanted: extra, nodes: nodes))
        }
        return result
    }

    /// The groups owning the GPU, sound and camera nodes present (for `doctor`).
    public func deviceOwners() -> [UInt32] {
        var all = Profile.Devices()
        all.dri = true; all.snd = true; all.video = true
        return Array(Set(discover(all).flatMap { $0.nodes.map(\.gid) })).sorted()
    }

    /// Maps "/dev/X" in a profile onto this discovery's root.
    func hostPath(_ profilePath: String) -> String {
        profilePath.hasPrefix("/dev/") ? root + profilePath.dropFirst(4) : profilePath
    }

    /// Every node under root/sub, recursively, skipping symlinks (by-path/ aliases).
    private func nodesIn(_ sub: String) -> [DeviceNode] {
        let dir = root + "/" + sub
        var nodes: [DeviceNode] = []
        for name in entries(dir).sorted() {
            let path = dir + "/" + name
            if isDirectory(path) {
                nodes += nodesIn(sub + "/" + name)
            } else if let n = node(path) {
                nodes.append(n)
            }
        }
        return nodes
    }

    private func node(_ path: String) -> DeviceNode? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        let type = st.st_mode & S_IFMT
        guard type == S_IFCHR || (acceptRegularFiles && type == S_IFREG) else { return nil }
        // Report the path as the app sees it: under /dev, whatever the scan root.
        let inside = root == "/dev" ? path : "/dev" + path.dropFirst(root.count)
        return DeviceNode(source: path, path: inside, gid: st.st_gid)
    }

    private func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private func entries(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
