/// One id-map line: `count` ids starting at `inside` map to `outside`…
public struct IDMapping: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var inside: UInt32
    public var outside: UInt32
    public var count: UInt32
    public init(inside: UInt32, outside: UInt32, count: UInt32) {
        self.inside = inside
        self.outside = outside
        self.count = count
    }
    /// The /proc/PID/uid_map and newuidmap form: "INSIDE OUTSIDE COUNT".
    public var description: String { "\(inside) \(outside) \(count)" }
}
