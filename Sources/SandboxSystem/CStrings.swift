// C strings for C calls: request structs that point at strings (a spawn
// request's mount ops, the bus proxy's file) and argv/envp arrays. Every copy
// belongs to one arena and is freed once, with it: `defer { strings.free() }`
// right after making it keeps them alive through the call.
#if canImport(Glibc)
import Glibc
#endif

package final class CStrings {
    private var owned: [UnsafeMutablePointer<CChar>] = []

    package init() {}

    /// A NUL-terminated copy of `s`, or nil for nil.
    package func copy(_ s: String?) -> UnsafeMutablePointer<CChar>? {
        guard let s, let p = strdup(s) else { return nil }
        owned.append(p)
        return p
    }

    /// An argv/envp array: copies of `strings`, then the terminating nil.
    package func array(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
        strings.map { copy($0) } + [nil]
    }

    /// Frees every copy (they must not be used after this).
    package func free() {
        for p in owned { Glibc.free(p) }
        owned.removeAll()
    }

    deinit { free() }
}
