import Testing
@testable import SandboxCore

@Suite struct SubordinateAuditTests {
    @Test func cleanFileIsOkAndNamesTheMapWindow() {
        let text = "alice:100000:65536\nbob:165536:65536\n"
        let a = SubordinateAudit.audit(contents: text, kind: .uid, user: "alice", id: 1000)
        #expect(a.overlaps.isEmpty)
        let c = a.check
        #expect(c.name == "subuid-map")
        #expect(c.status == .ok)
        #expect(c.finding == "the id map uses host uids 100000–165535 for container uids 0–65535 (except your own uid, which stays itself); no range overlaps another")
    }

    /// Debian 12: useradd assigned 100000:65536, then `usermod --add-subuids 150000-215535`.
    @Test func ownRangesOverlappingEachOtherWarnOnceWithTheDelFix() {
        let text = "alice:100000:65536\nbob:300000:65536\nalice:150000:65536\n"
        let a = SubordinateAudit.audit(contents: text, kind: .uid, user: "alice", id: 1000)
        #expect(a.overlaps.count == 1)
        #expect(a.overlaps[0].mine.line == 1 && a.overlaps[0].other.line == 3 && a.overlaps[0].otherIsMine)
        #expect(a.overlaps[0].shared == SubordinateIDRange(start: 150000, count: 15536))
        let c = a.check
        #expect(c.status == .warn)
        #expect(c.finding.hasPrefix("overlapping ranges in /etc/subuid: line 1 (100000–165535) overlaps your own line 3 (150000–215535) in 150000–165535"))
        // Merged, the two lines are one block from 100000: the map still starts there.
        #expect(c.finding.contains("the id map uses host uids 100000–165535"))
        #expect(c.hint?.contains("usermod --del-subuids 150000-215535 alice") == true)
    }

    @Test func overlapWithAnotherUserByNameOrUIDIsReported() {
        let text = "bob:100000:65536\nalice:120000:65536\n1001:180000:10\n"
        let a = SubordinateAudit.audit(contents: text, kind: .gid, user: "alice", id: 1000)
        #expect(a.overlaps.map(\.other.owner) == ["bob", "1001"])
        let c = a.check
        #expect(c.name == "subgid-map")
        #expect(c.status == .warn)
        #expect(c.finding.contains("line 2 (120000–185535) overlaps bob's line 1 (100000–165535) in 120000–165535"))
        #expect(c.finding.contains("overlaps 1001's line 3 (180000–180009) in 180000–180009"))
        #expect(c.hint?.contains("usermod --del-subgids 120000-185535 alice, then add a free range with --add-subgids") == true)
        // The same file seen as bob: bob's range overlaps alice's.
        let b = SubordinateAudit.audit(contents: text, kind: .gid, user: "bob", id: 1002)
        #expect(b.overlaps.count == 1 && b.overlaps[0].other.owner == "alice")
    }

    @Test func sharedDeviceGroupDelegationsAreNoOverlap() {
        let text = "alice:100000:65536\nalice:44:1\nbob:44:1\nbob:165536:65536\n"
        let a = SubordinateAudit.audit(contents: text, kind: .gid, user: "alice", id: 1000, sharedIDs: [44, 1000])
        #expect(a.overlaps.isEmpty)
        #expect(a.check.status == .ok)
        // Without the group being the user's, the same lines are an overlap.
        let b = SubordinateAudit.audit(contents: text, kind: .gid, user: "alice", id: 1000)
        #expect(b.overlaps.count == 1)
    }

    @Test func createAndTheMapUsingDifferentRangesIsAWarning() {
        // The first line (mmdebstrap's) is higher than the block the map picks (the lowest).
        let text = "alice:300000:65536\nalice:100000:65536\n"
        let a = SubordinateAudit.audit(contents: text, kind: .uid, user: "alice", id: 1000)
        #expect(a.overlaps.isEmpty)
        let c = a.check
        #expect(c.status == .warn)
        #expect(c.finding.contains("`sandbox create` unpacks images into your first line's range 300000–365535"))
        #expect(c.finding.contains("the id map uses host uids 100000–165535"))
    }

    @Test func noRangeAndSmallRanges() {
        let none = SubordinateAudit.audit(contents: "bob:100000:65536\n", kind: .uid, user: "alice", id: 1000)
        #expect(none.check.status == .ok)
        #expect(none.check.finding.contains("no range of yours"))
        let small = SubordinateAudit.audit(contents: "alice:100000:1000\n", kind: .uid, user: "alice", id: 1000)
        #expect(small.check.finding.contains("the id map uses container → host uids 0–999 → 100000–100999"))
        let own = SubordinateAudit.audit(contents: "alice:1000:1\n", kind: .uid, user: "alice", id: 1000)
        #expect(own.check.finding.contains("add no uids beyond your own"))
    }

    @Test func delegationsKeepLineNumbersAndSkipJunk() {
        let d = SubordinateAudit.delegations(contents: "# c\n\nalice:1:2\nbad\nbob:x:1\n  carol:5:0\ndave:7:3\n")
        #expect(d == [SubordinateDelegation(owner: "alice", range: SubordinateIDRange(start: 1, count: 2), line: 3),
                      SubordinateDelegation(owner: "dave", range: SubordinateIDRange(start: 7, count: 3), line: 7)])
    }
}
