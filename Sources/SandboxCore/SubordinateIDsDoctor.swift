// TO BE REPLACED by the profiles area's `SubordinateIDs` (SandboxCore/IDMap.swift)
// when the branches merge: doctor only needs "which ranges does /etc/subuid give
// this user", so this stays a thin, separately named reader to avoid a clash.

/// Ranges from an /etc/subuid or /etc/subgid text for one user, matched by name or numeric id.
public enum SubordinateRangesForDoctor {
    public static func ranges(in text: String, user: String, id: UInt32) -> [(start: UInt32, count: UInt32)] {
        var result: [(start: UInt32, count: UInt32)] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, f[0] == user || f[0] == String(id),
                  let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0 else { continue }
            result.append((start, count))
        }
        return result
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
}
