// The OpenPGP keys of an image's vendor repositories (image.keys), made ready for
// /etc/apt/keyrings/ before mmdebstrap runs. An https key is downloaded as the user
// with apt's own transport (apt-helper: the host's apt proxy and CA settings, and
// no https→http redirect), and it reaches the image only if its primary key's
// fingerprint is pinned in image.key_fingerprints: the pin, not the TLS
// connection, is what says this is the vendor's key. A key file that carries
// further, unpinned keys has them dropped, since apt trusts every key of a
// signed-by keyring. gpg reads the keys (in a throwaway home directory).
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

public struct ImageKeys: Sendable {
    public struct Key: Sendable, Equatable {
        /// The file name under /etc/apt/keyrings/ (the key location's last component).
        public var name: String
        public var contents: [UInt8]
    }

    let profile: Profile
    let aptHelper: String
    let gpg: String

    /// Largest key file accepted (vendor keyrings are a few kB).
    static let sizeLimit = 1 << 20

    /// Finds the programs the listed keys need; nil when there are no keys.
    public static func tools(for profile: Profile) throws(SandboxError) -> (aptHelper: String, gpg: String)? {
        let image = profile.image
        guard !image.keys.isEmpty else { return nil }
        let downloads = image.keys.contains { $0.hasPrefix("https://") }
        var aptHelper = ""
        if downloads {
            guard let found = ["/usr/lib/apt/apt-helper"].first(where: { access($0, X_OK) == 0 }) ?? HostCommand.find("apt-helper") else {
                throw SandboxError("apt-helper (part of apt) is missing; `sandbox create` downloads image.keys with it",
                                   hint: "as root: apt install apt")
            }
            aptHelper = found
        }
        var gpg = ""
        if downloads || !image.keyFingerprints.isEmpty {
            guard let found = HostCommand.find("gpg") else {
                throw SandboxError("gpg is not installed; `sandbox create` checks the fingerprints of image.keys with it",
                                   hint: "as root: apt install gpg")
            }
            gpg = found
        }
        return (aptHelper, gpg)
    }

    public init(profile: Profile, aptHelper: String, gpg: String) {
        self.profile = profile
        self.aptHelper = aptHelper
        self.gpg = gpg
    }

    /// Each key of image.keys, fetched or read, checked against the pins, in order.
    /// `work` is a private (0700) directory of the caller's for downloads and gpg.
    public func prepare(work: String, progress: @Sendable (String) -> Void) async throws(SandboxError) -> [Key] {
        var keys: [Key] = []
        for (i, location) in profile.image.keys.enumerated() {
            let name = HostFile.basename(location)
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-+".contains($0)) }) else {
                throw SandboxError("\(profile.sourcePath): image.keys '\(location)': the file name may only use letters, digits and . _ - +")
            }
            let file: String
            if location.hasPrefix("https://") {
                file = "\(work)/download-\(i)"
                progress("downloading the key \(location)")
                try await download(location, to: file)
            } else {
                file = location
            }
            let contents: [UInt8]
            switch HostFile.readBytes(file, limit: Self.sizeLimit) {
            case .success(let bytes): contents = bytes
            case .failure(let e):
                throw SandboxError.system("\(profile.sourcePath): image.keys '\(location)' cannot be read", errno: e.rawValue)
            }
            let pins = profile.image.keyFingerprints
            // A local file the user named is theirs to vouch for, unless they pinned fingerprints.
            if pins.isEmpty && !location.hasPrefix("https://") {
                keys.append(Key(name: name, contents: contents))
                continue
            }
            let home = "\(work)/gnupg-\(i)"
            guard mkdir(home, 0o700) == 0 else { throw SandboxError.system("cannot create \(home)", errno: errno) }
            let found = try await primaryFingerprints(file, home: home, location: location)
            let kept = found.filter { pins.contains($0) }
            guard !kept.isEmpty else {
                throw SandboxError("\(profile.sourcePath): image.keys '\(location)' is not the pinned key: it holds "
                                   + found.map(Self.spaced).joined(separator: ", ") + "; image.key_fingerprints pins "
                                   + pins.map(Self.spaced).joined(separator: ", "),
                                   hint: "nothing was built. If the vendor has published a new key, check its fingerprint on the vendor's own site and pin that one")
            }
            let dropped = found.filter { !pins.contains($0) }
            progress("key \(location): \(kept.map(Self.spaced).joined(separator: ", ")) matches image.key_fingerprints"
                     + (dropped.isEmpty ? "" : "; leaving out its unpinned keys \(dropped.map(Self.spaced).joined(separator: ", "))"))
            keys.append(Key(name: name, contents: try await export(kept, from: file, home: home, location: location)))
        }
        return keys
    }

    func download(_ url: String, to file: String) async throws(SandboxError) {
        // Bounded: one try, 30 s without progress; apt's https method verifies the certificate.
        let argv = [aptHelper, "-o", "Acquire::Retries=0", "-o", "Acquire::https::Timeout=30", "-o", "Acquire::http::Timeout=30",
                    "download-file", url, file]
        let r = try await HostCommand(argv).run(capture: .combined)
        guard r.status == 0 else {
            let why = r.output.split(separator: "\n").filter { $0.hasPrefix("E:") || $0.hasPrefix("Err:") || $0.hasPrefix("  ") }
                .map { String($0).trimmingSpaces() }.joined(separator: "; ")
            throw SandboxError("\(profile.sourcePath): image.keys '\(url)' could not be downloaded: \(why.isEmpty ? "apt-helper exit status \(r.status)" : why)",
                               hint: "check the address and that this machine reaches it (apt's proxy and CA settings apply)")
        }
    }

    func gpgCommand(home: String, _ arguments: [String]) -> HostCommand {
        HostCommand([gpg, "--homedir", home, "--batch", "--no-tty", "--no-autostart", "--no-options"] + arguments)
    }

    /// The primary keys' fingerprints in a key file (armored or binary), upper-case hex.
    func primaryFingerprints(_ file: String, home: String, location: String) async throws(SandboxError) -> [String] {
        let r = try await gpgCommand(home: home, ["--with-colons", "--show-keys", file]).run(capture: .separate)
        let found = r.status == 0 ? Self.primaryFingerprints(colons: r.output) : []
        guard !found.isEmpty else {
            throw SandboxError("\(profile.sourcePath): image.keys '\(location)' is not an OpenPGP public key"
                               + (r.errorOutput.isEmpty ? "" : ": " + r.errorOutput.split(separator: "\n").prefix(3).joined(separator: "; ")),
                               hint: "the location must give the vendor's signing key (armored or binary)")
        }
        return found
    }

    /// A binary keyring with only `fingerprints` (each with its subkeys and signatures).
    func export(_ fingerprints: [String], from file: String, home: String, location: String) async throws(SandboxError) -> [UInt8] {
        let imported = try await gpgCommand(home: home, ["--quiet", "--import", file]).run(capture: .combined)
        guard imported.status == 0 else {
            throw SandboxError("\(profile.sourcePath): gpg cannot import image.keys '\(location)': \(imported.output)")
        }
        let keyring = "\(home)/export.gpg"
        let exported = try await gpgCommand(home: home, ["--quiet", "--output", keyring, "--export"] + fingerprints).run(capture: .combined)
        guard exported.status == 0, case .success(let bytes) = HostFile.readBytes(keyring, limit: Self.sizeLimit), !bytes.isEmpty else {
            throw SandboxError("\(profile.sourcePath): gpg cannot export the pinned keys of image.keys '\(location)': \(exported.output)")
        }
        return bytes
    }

    /// Primary-key fingerprints from `gpg --with-colons` output: the `fpr` record that
    /// follows each `pub` record (those after `sub` records are subkeys').
    public static func primaryFingerprints(colons: String) -> [String] {
        var out: [String] = []
        var last = ""
        for line in colons.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard let type = fields.first else { continue }
            if type == "fpr", last == "pub", fields.count > 9 {
                let fpr = String(fields[9]).uppercased()
                if !fpr.isEmpty, !out.contains(fpr) { out.append(fpr) }
            }
            if type != "fpr" { last = String(type) }
        }
        return out
    }

    /// In groups of four, as vendors publish them.
    static func spaced(_ fpr: String) -> String {
        var out = ""
        for (i, c) in fpr.enumerated() {
            if i > 0 && i % 4 == 0 { out.append(" ") }
            out.append(c)
        }
        return out
    }
}

private extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
