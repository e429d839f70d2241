// The path of a value in a TOML document (`mount[1].target`, `env.LANG`), as
// messages print it and as every TOMLNode records it.

/// A path to a value: `mount[1].target`, `env.LANG`, `idmap.uid[0]`.
struct KeyPath: Hashable, Sendable, CustomStringConvertible {
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }
    var components: [Component] = []

    init(_ components: [Component] = []) { self.components = components }

    func appending(_ key: String) -> KeyPath { KeyPath(components + [.key(key)]) }
    func appending(_ index: Int) -> KeyPath { KeyPath(components + [.index(index)]) }
    var parent: KeyPath? { components.isEmpty ? nil : KeyPath(Array(components.dropLast())) }

    /// Dotted form; keys that are not bare TOML keys are quoted.
    var description: String {
        var s = ""
        for c in components {
            switch c {
            case .key(let k):
                if !s.isEmpty { s += "." }
                s += KeyPath.isBare(k) ? k : TOMLEmitter.quoted(k)
            case .index(let i):
                s += "[\(i)]"
            }
        }
        return s
    }

    static func isBare(_ k: String) -> Bool {
        !k.isEmpty && k.utf8.allSatisfy(isBareKeyByte)
    }
}

extension KeyPath {
    /// A-Z a-z 0-9 _ - : the bytes of a bare TOML key.
    static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 45
    }
}
