import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SandboxCore

// The launcher's account look-ups without NSS in the process (Accounts.swift).
// accounts.test.sh runs the installed launcher as an account that only an NSS
// module (libnss-extrausers) knows.
@Suite struct AccountsTests {
    static let passwd = """
        root:x:0:0:root:/root:/bin/bash
        # a comment line is no record
        broken:x:notanumber:1::/nowhere:/bin/sh
        short:x:1001
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh
        shadowed:x:1000:1000::/home/shadowed:/bin/sh

        """

    @Test func theFirstWellFormedRecordOfTheUidAnswers() {
        #expect(Accounts.user(uid: 1000, in: Self.passwd)
                == Accounts.User(name: "alice", uid: 1000, gid: 1000, home: "/home/alice", shell: "/bin/zsh"))
        #expect(Accounts.user(uid: 0, in: Self.passwd)?.home == "/root")
        // Too few fields, or an id that is no number, is no record of anybody's.
        #expect(Accounts.user(uid: 1001, in: Self.passwd) == nil)
        #expect(Accounts.user(uid: 4242, in: Self.passwd) == nil)
        #expect(Accounts.user(uid: 1000, in: "") == nil)
    }

    @Test func groupNamesComeFromTheFirstRecordOfTheGid() {
        let group = "root:x:0:\nvideo:x:44:alice,bob\nbad:x:\nvideo2:x:44:\n:x:45:\n"
        #expect(Accounts.groupName(gid: 44, in: group) == "video")
        #expect(Accounts.groupName(gid: 0, in: group) == "root")
        // An empty name is no record; nor is a line with too few fields.
        #expect(Accounts.groupName(gid: 45, in: group) == nil)
        #expect(Accounts.groupName(gid: 46, in: group) == nil)
    }

    @Test func anImageNamesAnIdWithAnyRecordOfThreeFieldsOrMore() {
        // MountPlanner keeps an image's own passwd/group when they name the user.
        #expect(MountPlanner.names(uid: 1001, in: Self.passwd))   // "short:x:1001": three fields
        #expect(MountPlanner.names(uid: 0, in: Self.passwd))
        #expect(!MountPlanner.names(uid: 4242, in: Self.passwd))
        #expect(MountPlanner.names(uid: 44, in: "video:x:44:alice\n"))
        #expect(!MountPlanner.names(uid: 44, in: "video:x\n44\n"))
    }

    @Test func anIdTheFileDoesNotNameIsAskedOfGetent() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let empty = tree.write("passwd", "nobody-here:x:1:1::/:/bin/sh\n")
        // Root is in every host's account database; the file given here does not name it.
        let root = try #require(Accounts.user(uid: 0, passwd: empty))
        #expect(root.name == "root" && root.uid == 0 && root.gid == 0)
        #expect(Accounts.groupName(gid: 0, group: tree.root + "/missing") == "root")
        // No account anywhere: nil, not a crash and not a made-up name.
        #expect(Accounts.user(uid: 4_000_000_000, passwd: empty) == nil)
        #expect(Accounts.groupName(gid: 4_000_000_000, group: empty) == nil)
    }
}
