import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SandboxCore

/// One test per error kind: each asserts the kind, and that the printed message
/// names the file, the line and the key.
@Suite struct ProfileErrorMessages {
    /// Loads `text` as user profile `t` and returns its errors.
    func errors(_ text: String, extra: [String: String] = [:]) -> (errors: [ProfileError], file: String) {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        for (name, body) in extra { tree.write("\(tree.userDir)/\(name).toml", body) }
        let file = tree.write("\(tree.userDir)/t.toml", text)
        return (store.errors(loading: "t"), file)
    }

    func expectOne(_ text: String, _ kind: ProfileError.Kind, line: Int, key: String, mentions: [String] = [],
                   sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let (errs, file) = errors(text)
        #expect(errs.count == 1, "\(errs)", sourceLocation: sourceLocation)
        guard let e = errs.first else { return }
        #expect(e.kind == kind, sourceLocation: sourceLocation)
        #expect(e.description.hasPrefix("\(file):\(line): key '\(key)': "), "\(e.description)", sourceLocation: sourceLocation)
        for m in mentions { #expect(e.description.contains(m), "\(e.description) lacks \(m)", sourceLocation: sourceLocation) }
    }

    @Test func syntaxErrorHasTheLine() {
        let (errs, file) = errors("description = \"ok\"\n[x11]\nmode = trusted\n")
        #expect(errs.count == 1)
        #expect(errs.first?.kind == .syntax)
        #expect(errs.first?.description.hasPrefix("\(file):3:") == true, "\(errs)")
    }

    @Test func unknownKeyWithDidYouMean() {
        expectOne("[x11]\nmdoe = \"trusted\"\n", .unknownKey, line: 2, key: "x11.mdoe", mentions: ["did you mean \"mode\"?", "valid keys: mode, required"])
        expectOne("comand = [\"x\"]\n", .unknownKey, line: 1, key: "comand", mentions: ["did you mean \"command\"?"])
        expectOne("[session]\nstopTimeout = 3\n", .unknownKey, line: 2, key: "session.stopTimeout", mentions: ["did you mean \"stop_timeout\"?"])
        expectOne("[[mount]]\nsource = \"/a\"\ntraget = \"/b\"\n", .unknownKey, line: 3, key: "mount[0].traget", mentions: ["did you mean \"target\"?"])
        expectOne("[x11]\nenabled = true\n", .unknownKey, line: 2, key: "x11.enabled", mentions: ["\"enabled\" belongs in [wayland]"])
        expectOne("passthrough = true\n", .unknownKey, line: 1, key: "passthrough", mentions: ["belongs in [idmap]"])
        expectOne("[pulse]\nmicrophon = true\n", .unknownKey, line: 2, key: "pulse.microphon",
                  mentions: ["did you mean \"microphone\"?", "valid keys: mode, required, microphone"])
    }

    @Test func wrongType() {
        expectOne("[devices]\ndri = \"true\"\n", .wrongType, line: 2, key: "devices.dri", mentions: ["must be a boolean", "write true without quotes"])
        expectOne("\n\n[session]\nstop_timeout = \"10\"\n", .wrongType, line: 4, key: "session.stop_timeout", mentions: ["must be an integer"])
        expectOne("x11 = \"trusted\"\n", .wrongType, line: 1, key: "x11", mentions: ["must be a table"])
        expectOne("[env]\nDEBUG = 1\n", .wrongType, line: 2, key: "env.DEBUG", mentions: ["quote the value"])
        expectOne("[pulse]\nmicrophone = \"yes\"\n", .wrongType, line: 2, key: "pulse.microphone", mentions: ["must be a boolean"])
    }

    @Test func commandMustBeANonEmptyStringArray() {
        expectOne("command = \"google-chrome --incognito\"\n", .wrongType, line: 1, key: "command",
                  mentions: ["array of strings", "[\"google-chrome\", \"--incognito\"]"])
        expectOne("command = []\n", .badValue, line: 1, key: "command", mentions: ["empty"])
        expectOne("command = [\n  \"app\",\n  3,\n]\n", .wrongType, line: 3, key: "command[1]", mentions: ["must be strings"])
    }

    @Test func badEnumValueListsTheValidOnes() {
        expectOne("[network]\nmode = \"bridge\"\n", .badValue, line: 2, key: "network.mode",
                  mentions: ["\"bridge\" is not a valid network mode", "valid: \"none\", \"veth\", \"pasta\", \"host\""])
        expectOne("[pulse]\nmode = \"modul\"\n", .badValue, line: 2, key: "pulse.mode", mentions: ["did you mean \"module\"?"])
        expectOne("[pulse]\nmode = \"unfiltered\"\n", .badValue, line: 2, key: "pulse.mode",
                  mentions: ["\"unfiltered-host-socket\""])
    }

    @Test func badIDMapLine() {
        expectOne("[idmap]\nuid = [\n  \"0 100000 1000\",\n  \"1000 1000\",\n]\n", .badIDMap, line: 4, key: "idmap.uid[1]",
                  mentions: ["INSIDE OUTSIDE COUNT"])
    }

    @Test func overlappingIDMaps() {
        expectOne("[idmap]\nuid = [\"0 100000 1000\", \"999 101000 10\"]\n", .idMapOverlap, line: 2, key: "idmap.uid[1]",
                  mentions: ["inside the container"])
        expectOne("[idmap]\ngid = [\"0 100000 1000\",\n  \"2000 100999 10\"]\n", .idMapOverlap, line: 3, key: "idmap.gid[1]",
                  mentions: ["on the host"])
    }

    @Test func outOfRangeIDMaps() {
        expectOne("[idmap]\nuid = [\"0 4294967290 100\"]\n", .idMapRange, line: 2, key: "idmap.uid[0]", mentions: ["4294967295"])
    }

    @Test func idMapNotDelegated() {
        expectOne("[idmap]\nuid = [\"0 300000 1000\"]\n", .idMapNotDelegated, line: 2, key: "idmap.uid[0]",
                  mentions: ["not delegated to alice in /etc/subuid", "100000–165535"])
        // The user's own uid, count 1, needs no delegation.
        #expect(errors("[idmap]\nuid = [\"0 1000 1\"]\ngid = [\"0 1000 1\"]\n").errors.isEmpty)
    }

    @Test func badMountTargets() {
        expectOne("[[mount]]\nsource = \"/a\"\ntarget = \"relative/dir\"\n", .badMountTarget, line: 3, key: "mount[0].target", mentions: ["relative"])
        expectOne("[[mount]]\nsource = \"/a\"\n\n[[mount]]\nsource = \"/b\"\ntarget = \"~/x/../../etc\"\n", .badMountTarget, line: 6,
                  key: "mount[1].target", mentions: ["'..'"])
        expectOne("[[mount]]\nsource = \"/a\"\ntarget = \"/\"\n", .badMountTarget, line: 3, key: "mount[0].target", mentions: ["root"])
        // ~ is the container home: fine.
        #expect(errors("[[mount]]\nsource = \"~/Music\"\ntarget = \"~/Music\"\n").errors.isEmpty)
    }

    @Test func missingInclude() {
        let (errs, file) = errors("description = \"x\"\ninclude = [\"gui\", \"nosuch\"]\n", extra: ["gui": ""])
        #expect(errs.count == 1)
        #expect(errs.first?.kind == .missingInclude)
        #expect(errs.first?.description.hasPrefix("\(file):2: key 'include[1]': included profile 'nosuch' not found") == true, "\(errs)")
    }

    @Test func includeCycleNamesTheChain() {
        let (errs, file) = errors("include = [\"a\"]\n", extra: ["a": "include = [\"b\"]", "b": "\n\ninclude = [\"t\"]"])
        #expect(errs.count == 1, "\(errs)")
        guard let e = errs.first else { return }
        #expect(e.kind == .includeCycle)
        let dir = HostFile.dirname(file)
        #expect(e.description.hasPrefix("\(dir)/b.toml:3: key 'include[0]': include cycle: \(file) → \(dir)/a.toml → \(dir)/b.toml → \(dir)/t.toml"),
                "\(e.description)")
    }

    @Test func notFound() {
        let tree = TempTree()
        defer { tree.remove() }
        let errs = tree.store().errors(loading: "chrme")
        #expect(errs.map(\.kind) == [.notFound])
        #expect(errs.first?.description.contains("no profile named 'chrme'") == true)
    }

    @Test func invalidProfileNamesAreRejected() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        for bad in ["-x", ".hidden", "a b", ""] {
            let errs = store.errors(loading: bad)
            #expect(errs.map(\.kind) == [.badValue], "\(bad): \(errs)")
        }
        let file = tree.write("\(tree.userDir)/my app.toml", "")
        let errs = store.errors(loading: file)
        #expect(errs.first?.description.contains("not a valid profile name") == true)
    }

    @Test func stopTimeoutOutOfRange() {
        expectOne("[session]\nstop_timeout = 100000\n", .badValue, line: 2, key: "session.stop_timeout", mentions: ["out of range", "0–3600"])
        expectOne("[session]\nstop_timeout = -1\n", .badValue, line: 2, key: "session.stop_timeout", mentions: ["out of range"])
    }

    @Test func invalidEnvironmentNames() {
        expectOne("[env]\n1BAD = \"x\"\n", .badValue, line: 2, key: "env.1BAD", mentions: ["not a valid environment variable name"])
        expectOne("[env]\n\n\"A.B\" = \"x\"\n", .badValue, line: 3, key: "env.\"A.B\"", mentions: ["not a valid environment variable name"])
    }

    @Test func extraDevicesMustBeUnderDev() {
        expectOne("[devices]\nextra = [\"/dev/video0\", \"/etc/shadow\"]\n", .badValue, line: 2, key: "devices.extra[1]", mentions: ["not under /dev/"])
        expectOne("[devices]\nextra = [\"/dev/../etc/shadow\"]\n", .badValue, line: 2, key: "devices.extra[0]", mentions: ["'..'"])
    }

    @Test func aDownloadedKeyNeedsAPinnedFingerprint() {
        let url = "https://vendor.example/key.asc"
        expectOne("[image]\nkeys = [\"/etc/k.gpg\", \"\(url)\"]\n", .badValue, line: 2, key: "image.keys[1]",
                  mentions: ["is downloaded, but image.key_fingerprints pins no fingerprint", "key_fingerprints = ["])
        expectOne("[image]\nkeys = [\"\(url)\"]\nkey_fingerprints = [\"EB4C 1BFD 4F04\"]\n", .badValue, line: 3,
                  key: "image.key_fingerprints[0]", mentions: ["not an OpenPGP fingerprint", "40 hexadecimal digits"])
        expectOne("[image]\nkey_fingerprints = [\"EB4C1BFD4F042F6DDDCCEC917721F63BD38B479G\"]\n", .badValue, line: 2,
                  key: "image.key_fingerprints[0]", mentions: ["not an OpenPGP fingerprint"])
        // Pinned (any order of the keys in the table), and a local key alone needs no pin.
        #expect(errors("[image]\nkeys = [\"\(url)\"]\nkey_fingerprints = [\"EB4C 1BFD 4F04 2F6D DDCC EC91 7721 F63B D38B 4796\"]\n").errors.isEmpty)
        #expect(errors("[image]\nkey_fingerprints = [\"EB4C1BFD4F042F6DDDCCEC917721F63BD38B4796\"]\nkeys = [\"\(url)\"]\n").errors.isEmpty)
        #expect(errors("[image]\nkeys = [\"/etc/apt/keyrings/k.gpg\"]\n").errors.isEmpty)
    }

    @Test func filesHandOverTakesItsThreeValues() {
        expectOne("[files]\nhand_over = \"readwrite\"\n", .badValue, line: 2, key: "files.hand_over",
                  mentions: ["did you mean \"read-write\"?", "\"none\""])
        expectOne("[files]\nhandover = \"none\"\n", .unknownKey, line: 2, key: "files.handover", mentions: ["did you mean \"hand_over\"?"])
        #expect(errors("[files]\nhand_over = \"read-write\"\n").errors.isEmpty)
    }

    @Test func userConfigIsValidatedTheSameWay() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let file = tree.write("config/sandbox/config.toml", "brige = \"br0\"\nstop_timeout = \"5\"\n")
        do throws(ProfileErrors) {
            _ = try store.userConfig()
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.map(\.kind) == [.unknownKey, .wrongType])
            #expect(error.errors[0].description.hasPrefix("\(file):1: key 'brige': unknown key \"brige\" in config.toml"))
            #expect(error.errors[0].description.contains("did you mean \"bridge\"?"))
            #expect(error.errors[1].description.hasPrefix("\(file):2: key 'stop_timeout'"))
        }
    }

    @Test func allProblemsAreCollectedAcrossIncludedFilesInOrder() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let frag = tree.write("\(tree.userDir)/frag.toml", "[x11]\nmode = \"yes\"\n")
        let file = tree.write("\(tree.userDir)/t.toml", """
            include = ["frag"]
            command = "app"
            [devices]
            dri = 1
            [[mount]]
            source = "/a"
            target = "a"
            """)
        let errs = store.errors(loading: "t")
        #expect(errs.map(\.kind) == [.badValue, .wrongType, .wrongType, .badMountTarget], "\(errs)")
        #expect(errs.map(\.location.file) == [frag, file, file, file])
        #expect(errs.map { $0.location.line ?? 0 } == [2, 2, 4, 7])
    }
}

/// A profile decides what runs as the user: files others can change are refused.
@Suite struct UnsafeProfileFiles {
    @Test func worldWritableProfileIsRefused() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let file = tree.write("\(tree.userDir)/app.toml", "command = [\"true\"]\n")
        chmod(file, 0o666)
        let errs = store.errors(loading: "app")
        #expect(errs.map(\.kind) == [.unsafeFile])
        #expect(errs.first?.description.hasPrefix("\(file): refusing to use it: its file \(file) is writable by every user (mode 666, owner ") == true, "\(errs)")
        #expect(errs.first?.hint == "run: chmod o-w '\(file)'")
    }

    @Test func fragmentInAWorldWritableDirectoryIsRefused() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let frag = tree.write("shared/gui.toml", "")
        chmod(tree.root + "/shared", 0o1777)     // sticky does not help the directory a file is found in
        tree.write("\(tree.userDir)/app.toml", "include = [\"../../../shared/gui.toml\"]\n")
        let errs = store.errors(loading: "app")
        #expect(errs.map(\.kind) == [.unsafeFile], "\(errs)")
        #expect(errs.first?.location.file == tree.root + "/\(tree.userDir)/../../../shared/gui.toml" || errs.first?.location.file == frag)
    }

    @Test func anotherUsersFileIsRefusedAndOwnGroupWriteIsFine() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let file = tree.write("\(tree.userDir)/app.toml", "")
        chown(file, 1234, 1234)
        #expect(store.errors(loading: "app").first?.description.contains("is owned by uid 1234, not by you (1000) or root") == true)
        chown(file, 1000, 1000)
        chmod(file, 0o664)
        #expect(store.errors(loading: "app").isEmpty)
        chown(file, 1000, 50)
        #expect(store.errors(loading: "app").first?.description.contains("writable by group 50") == true)
    }

    @Test func unsafeUserConfigIsRefused() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let file = tree.write("config/sandbox/config.toml", "stop_timeout = 1\n")
        chmod(file, 0o646)
        do throws(ProfileErrors) {
            _ = try store.userConfig()
            Issue.record("accepted a world-writable config.toml")
        } catch {
            #expect(error.errors.map(\.kind) == [.unsafeFile])
        }
    }

    // Issue 9 #6: trust does not stop at the file's own directory.

    @Test func worldWritableGrandparentIsRefusedWithItsModeAndTheFix() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/app.toml", "command = [\"true\"]\n")
        let grandparent = tree.root + "/config"           // config/sandbox/profiles/app.toml
        chmod(grandparent, 0o777)
        let errs = store.errors(loading: "app")
        #expect(errs.map(\.kind) == [.unsafeFile], "\(errs)")
        #expect(errs.first?.message.contains("its directory \(grandparent) is writable by every user (mode 777, owner ") == true, "\(errs)")
        #expect(errs.first?.hint?.hasPrefix("run: chmod o-w '\(grandparent)'") == true, "\(errs)")
        chmod(grandparent, 0o1777)                       // sticky: nobody else can rename what is in it
        #expect(store.errors(loading: "app").isEmpty)
        chmod(grandparent, 0o755)
        #expect(store.errors(loading: "app").isEmpty)
    }

    @Test(.enabled(if: getuid() == 0, "chown to another uid needs root"))
    func grandparentOfAnotherUserIsRefusedForProfilesIncludesAndConfig() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/app.toml", "include = [\"frag\"]\n")
        tree.write("\(tree.systemDir)/frag.toml", "")
        let config = tree.write("config/sandbox/config.toml", "")
        let userGrandparent = tree.root + "/config"
        chown(userGrandparent, 1234, 1234)
        var errs = store.errors(loading: "app")
        // The profile, then config.toml (read with every load), which sits below the same directory.
        #expect(errs.map(\.kind) == [.unsafeFile, .unsafeFile], "\(errs)")
        #expect(errs.map(\.location.file) == [tree.root + "/\(tree.userDir)/app.toml", config], "\(errs)")
        #expect(errs.first?.message.contains("its directory \(userGrandparent) is owned by uid 1234") == true, "\(errs)")
        #expect(errs.first?.message.contains("not by you (1000) or root (mode 755)") == true, "\(errs)")
        #expect(errs.first?.hint?.hasPrefix("as root: chown alice '\(userGrandparent)'") == true, "\(errs)")
        do throws(ProfileErrors) {
            _ = try store.userConfig()
            Issue.record("accepted \(config) below a directory of uid 1234")
        } catch {
            #expect(error.errors.first?.message.contains("its directory \(userGrandparent) is owned by uid 1234") == true, "\(error)")
        }
        chown(userGrandparent, 1000, 1000)              // the user's own: fine
        #expect(store.errors(loading: "app").isEmpty)
        // The include's grandparent (tree root/etc) of another user.
        chown(tree.root + "/etc", 1234, 1234)
        errs = store.errors(loading: "app")
        #expect(errs.map(\.kind) == [.unsafeFile], "\(errs)")
        #expect(errs.first?.location.file.hasSuffix("frag.toml") == true, "\(errs)")
        #expect(errs.first?.message.contains("its directory \(tree.root)/etc is owned by uid 1234") == true, "\(errs)")
    }

    @Test(.enabled(if: getuid() == 0, "chown to another uid needs root"))
    func aNamePlantedInAStickyDirectoryIsRefused() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        // shared/ is sticky and world-writable like /tmp; another user got there first.
        let real = tree.write("real/frag.toml", "")
        tree.mkdirs(tree.root + "/shared")
        chmod(tree.root + "/shared", 0o1777)
        symlink(tree.root + "/real", tree.root + "/shared/planted")
        lchown(tree.root + "/shared/planted", 1234, 1234)
        tree.write("\(tree.userDir)/app.toml", "include = [\"\(tree.root)/shared/planted/frag.toml\"]\n")
        let errs = store.errors(loading: "app")
        #expect(errs.map(\.kind) == [.unsafeFile], "\(errs)")
        #expect(errs.first?.message.contains("its symlink \(tree.root)/shared/planted is owned by uid 1234") == true, "\(errs)")
        // The same link made by the user (root here) is fine: nobody else can replace it.
        lchown(tree.root + "/shared/planted", 0, 0)
        #expect(store.errors(loading: "app").isEmpty, "\(real)")
    }
}

/// The decision itself, from described stat results (no file system).
@Suite struct ProfileTrustRule {
    func e(_ kind: TrustEntry.Kind, uid: UInt32 = 1000, gid: UInt32 = 1000, _ mode: UInt32) -> TrustEntry {
        TrustEntry(path: "/p", kind: kind, uid: uid, gid: gid, mode: mode)
    }

    @Test func ownerMustBeTheUserOrRoot() {
        #expect(ProfileTrust.judge(e(.directory, uid: 1000, 0o755), uid: 1000, gid: 1000) == nil)
        #expect(ProfileTrust.judge(e(.directory, uid: 0, 0o755), uid: 1000, gid: 1000) == nil)
        let other = e(.directory, uid: 1001, 0o755)
        #expect(ProfileTrust.judge(other, uid: 1000, gid: 1000) == .ownedByOther(other))
        let link = e(.symlink, uid: 1001, 0o777)
        #expect(ProfileTrust.judge(link, uid: 1000, gid: 1000) == .ownedByOther(link))
    }

    @Test func writeBitsForOthersAndForeignGroups() {
        let world = e(.directory, 0o757)
        #expect(ProfileTrust.judge(world, uid: 1000, gid: 1000) == .writableByEveryone(world))
        let foreignGroup = e(.file, gid: 50, 0o664)
        #expect(ProfileTrust.judge(foreignGroup, uid: 1000, gid: 1000) == .writableByGroup(foreignGroup))
        // The user's own primary group (user-private groups): fine.
        #expect(ProfileTrust.judge(e(.directory, gid: 1000, 0o775), uid: 1000, gid: 1000) == nil)
        // A symlink's mode means nothing.
        #expect(ProfileTrust.judge(e(.symlink, 0o777), uid: 1000, gid: 1000) == nil)
    }

    @Test func stickyHelpsAncestorDirectoriesOnly() {
        #expect(ProfileTrust.judge(e(.directory, uid: 0, 0o1777), uid: 1000, gid: 1000) == nil)   // /tmp above
        var holding = e(.directory, uid: 1000, 0o1777)
        holding.holdsFile = true                                    // names are looked up here
        #expect(ProfileTrust.judge(holding, uid: 1000, gid: 1000) == .writableByEveryone(holding))
        let stickyFile = e(.file, uid: 0, 0o1666)
        #expect(ProfileTrust.judge(stickyFile, uid: 1000, gid: 1000) == .writableByEveryone(stickyFile))
        let othersTmp = e(.directory, uid: 1001, 0o1777)
        #expect(ProfileTrust.judge(othersTmp, uid: 1000, gid: 1000) == .ownedByOther(othersTmp))
    }

    @Test func theOverflowUIDCountsAsRootOnlyInANestedUserNamespace() {
        let home = e(.directory, uid: 65534, 0o755)          // /home seen from `unshare -Ur`
        #expect(ProfileTrust.judge(home, uid: 0, gid: 0, unmappedOwner: 65534) == nil)
        #expect(ProfileTrust.judge(home, uid: 1000, gid: 1000) == .ownedByOther(home))   // the initial namespace: user nobody
        let open = e(.directory, uid: 65534, 0o777)
        #expect(ProfileTrust.judge(open, uid: 0, gid: 0, unmappedOwner: 65534) == .writableByEveryone(open))
    }

    @Test func theFirstProblemFromTheFileUpwardsIsReported() {
        let chain = [e(.file, 0o644), e(.directory, 0o755), e(.directory, uid: 1001, 0o755), e(.directory, uid: 0, 0o777)]
        #expect(ProfileTrust.firstProblem(chain, uid: 1000, gid: 1000) == .ownedByOther(chain[2]))
        #expect(ProfileTrust.firstProblem(Array(chain.prefix(2)), uid: 1000, gid: 1000) == nil)
    }
}
