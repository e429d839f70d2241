import Testing
import SandboxCore
@testable import SandboxRuntime

private let user = UserIdentity(uid: 1001, gid: 1001, name: "u", home: "/home/u")
private let paths = Paths(configDir: "/home/u/.config/sandbox", dataDir: "/home/u/.local/share/sandbox",
                          runtimeDir: "/run/user/1001/sandbox", profileDirs: [])

private func imageProfile() -> Profile {
    var p = Profile(name: "deb", sourcePath: "/home/u/.config/sandbox/profiles/deb.toml")
    p.rootfs.mode = .image
    return p
}

@Test func onlyImageProfilesCanBeCreated() {
    let host = Profile(name: "h", sourcePath: "/h.toml")
    #expect(throws: SandboxError.self) { try ImageBuilder(profile: host, user: user, paths: paths) }
}

@Test func targetIsDataDirOrExpandedRootfsPath() throws {
    var p = imageProfile()
    #expect(try ImageBuilder(profile: p, user: user, paths: paths).target == "/home/u/.local/share/sandbox/deb/rootfs")
    p.rootfs.path = "~/images/deb/"
    #expect(try ImageBuilder(profile: p, user: user, paths: paths).target == "/home/u/images/deb")
    p.rootfs.path = "images/deb"
    #expect(throws: SandboxError.self) { try ImageBuilder(profile: p, user: user, paths: paths) }
}

@Test func minimalArguments() throws {
    let b = try ImageBuilder(profile: imageProfile(), user: user, paths: paths)
    #expect(b.mmdebstrapArguments(output: "/s", setup: nil)
            == ["--mode=unshare", "--variant=minbase", "--architectures=amd64", "--", "bookworm", "/s"])
}

@Test func packagesComponentsMultiarchProxyAndSources() throws {
    var p = imageProfile()
    p.image.release = "trixie"
    p.image.variant = "apt"
    p.image.packages = ["steam-installer", "mesa-vulkan-drivers"]
    p.image.components = ["main", "contrib", "non-free"]
    p.seccomp.multiarch = true
    let b = try ImageBuilder(profile: p, user: user, paths: paths)
    let setup = ImageBuilder.SetupFiles(directory: "/tmp/sandbox-create.abc", keyNames: ["vendor.gpg"], hasSources: true)
    #expect(b.mmdebstrapArguments(output: "/s", setup: setup, proxies: ["Acquire::http::Proxy \"http://p:3142\""]) == [
        "--mode=unshare", "--variant=apt", "--architectures=amd64,i386", "--components=main,contrib,non-free",
        "--include=steam-installer,mesa-vulkan-drivers", "--aptopt=Acquire::http::Proxy \"http://p:3142\"",
        "--setup-hook=mkdir -p \"$1/etc/apt/keyrings\"",
        "--setup-hook=cp /tmp/sandbox-create.abc/keyrings/vendor.gpg \"$1/etc/apt/keyrings/vendor.gpg\"",
        "--setup-hook=cp /tmp/sandbox-create.abc/build/sandbox-image.list \"$1/etc/apt/sources.list.d/sandbox-image.list\"",
        "--customize-hook=chroot \"$1\" sh -c 'rm -f /etc/apt/sources.list.d/sandbox-image.list && cat >/etc/apt/sources.list.d/sandbox-image.list' </tmp/sandbox-create.abc/final/sandbox-image.list",
        "--", "trixie", "/s",
    ])
    // An explicit foreign architecture is not doubled.
    p.image.foreignArchitectures = ["i386"]
    #expect(try ImageBuilder(profile: p, user: user, paths: paths).mmdebstrapArguments(output: "/s", setup: nil)
                .contains("--architectures=amd64,i386"))
}

@Test func buildTimeSourcesPointAtHostCopiesOfListedKeysOnly() {
    let text = """
        deb [signed-by=/etc/apt/keyrings/vendor.gpg] https://example.org/apt stable main
        deb [arch=amd64 signed-by=/etc/apt/keyrings/vendor.gpg2] https://example.org/x stable main
        deb [signed-by=/etc/apt/keyrings/other.gpg,/etc/apt/keyrings/vendor.gpg arch=amd64] https://e.org y main

        """
    #expect(ImageBuilder.buildTimeSources(text, keyNames: ["vendor.gpg"], keyDirectory: "/tmp/k") == """
        deb [signed-by=/tmp/k/vendor.gpg] https://example.org/apt stable main
        deb [arch=amd64 signed-by=/etc/apt/keyrings/vendor.gpg2] https://example.org/x stable main
        deb [signed-by=/etc/apt/keyrings/other.gpg,/etc/apt/keyrings/vendor.gpg arch=amd64] https://e.org y main

        """)
}

@Test func preflightRejectsOtherDistros() throws {
    var p = imageProfile()
    p.image.distro = "fedora"
    #expect(throws: SandboxError.self) { try ImageBuilder(profile: p, user: user, paths: paths).preflight(force: false) }
}

@Test func unpackNamespaceMapsTheRangeAtZeroAndTheUserAbove() {
    #expect(ImageBuilder.namespaceArgv(unshare: "/usr/bin/unshare", subuid: 100000, subgid: 200000) == [
        "/usr/bin/unshare", "--user", "--map-user=65536", "--map-group=65536",
        "--map-users=100000,0,65536", "--map-groups=200000,0,65536", "--setuid=0", "--setgid=0",
    ])
}

@Test func pipelineConnectsProducerToConsumer() async throws {
    let (a, b) = try await HostCommand.pipeline(HostCommand(["sh", "-c", "echo hello; exit 4"]),
                                          HostCommand(["sh", "-c", "read x; [ \"$x\" = hello ]"]))
    #expect(a == 4)
    #expect(b == 0)
}

@Test func hostAptSettingsBecomeAptOptions() {
    let dump = """
        Acquire::http::Proxy http://proxy:3142
        Acquire::https::CaInfo /etc/ssl/company-ca.pem
        Acquire::https::Proxy
        APT::Other yes
        Acquire::https::CaPath /bad"quote
        """
    #expect(ImageBuilder.aptOptions(dump: dump) == ["Acquire::http::Proxy \"http://proxy:3142\"",
                                                    "Acquire::https::CaInfo \"/etc/ssl/company-ca.pem\""])
}

@Test func primaryFingerprintsComeFromTheFprAfterEachPub() {
    // `gpg --with-colons --show-keys` of a file with two keys, one with a subkey.
    let colons = """
        pub:-:4096:1:7721F63BD38B4796:1460440275:::-:::scSC::::::23::0:
        fpr:::::::::EB4C1BFD4F042F6DDDCCEC917721F63BD38B4796:
        uid:-::::1460440275::B2BB5D5D2B1F1C3DCF5A5A7AB63E9D6A25A5BBD9::Google Inc. (Linux Packages Signing Authority) <linux-packages-keymaster@google.com>::::::::::0:
        sub:-:4096:1:4EB27DB2A3B88B8B:1475784181:1570392181:::::s::::::23:
        fpr:::::::::3B068FB4789ABE4AEFA3BB491397BC53640DB551:
        pub:-:255:22:1111111111111111:1700000000:::-:::scSC::::::ed25519:::0:
        fpr:::::::::aaaabbbbccccddddeeeeffff0000111122223333:
        """
    #expect(ImageKeys.primaryFingerprints(colons: colons) == ["EB4C1BFD4F042F6DDDCCEC917721F63BD38B4796",
                                                              "AAAABBBBCCCCDDDDEEEEFFFF0000111122223333"])
    #expect(ImageKeys.primaryFingerprints(colons: "").isEmpty)
    #expect(ImageKeys.spaced("EB4C1BFD4F042F6DDDCC") == "EB4C 1BFD 4F04 2F6D DDCC")
}
