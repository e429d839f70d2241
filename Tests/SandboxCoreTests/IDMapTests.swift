import Testing
@testable import SandboxCore

@Suite struct SubordinateIDParsing {
    @Test func parsesByNameAndByUIDSkippingCommentsAndOtherUsers() {
        let text = """
            # delegations
            alice:100000:65536
            bob:200000:65536

            1000:300000:1000
              alice:400000:10
            alice:bad:10
            alice:500000
            alice:600000:0
            """
        let ranges = SubordinateIDs.parse(contents: text, user: "alice", uid: 1000)
        #expect(ranges == [
            SubordinateIDRange(start: 100000, count: 65536),
            SubordinateIDRange(start: 300000, count: 1000),
            SubordinateIDRange(start: 400000, count: 10),
        ])
        #expect(SubordinateIDs.parse(contents: text, user: "carol", uid: 1001).isEmpty)
    }

    @Test func clipsRangesPastTheTopOfTheIDSpace() {
        let ranges = SubordinateIDs.parse(contents: "alice:4294967290:100\n", user: "alice", uid: 1000)
        #expect(ranges == [SubordinateIDRange(start: 4294967290, count: 6)])
    }
}

@Suite struct PassthroughMaps {
    let recipeRange = [SubordinateIDRange(start: 100000, count: 65536)]

    @Test func recipeSixLinesForUIDAndGID1000() {
        let plan = IDMapPlanner.passthrough(uid: 1000, gid: 1000, userName: "alice", subuid: recipeRange, subgid: recipeRange)
        let expected = ["0 100000 1000", "1000 1000 1", "1001 101001 64535"]
        #expect(plan.uidMap.map(\.description) == expected)
        #expect(plan.gidMap.map(\.description) == expected)
        #expect(plan.notices.isEmpty)
    }

    @Test func differentUIDAndGID() {
        let plan = IDMapPlanner.passthrough(uid: 1001, gid: 100, userName: "bob",
                                            subuid: [SubordinateIDRange(start: 200000, count: 65536)],
                                            subgid: [SubordinateIDRange(start: 300000, count: 70000)])
        #expect(plan.uidMap.map(\.description) == ["0 200000 1001", "1001 1001 1", "1002 201002 64534"])
        #expect(plan.gidMap.map(\.description) == ["0 300000 100", "100 100 1", "101 300101 65435"])
    }

    @Test func rootMapsItselfAndSaysSo() {
        let (map, notices) = IDMapPlanner.passthrough(id: 0, ranges: recipeRange, kind: .uid, userName: "root")
        #expect(map.map(\.description) == ["0 0 1", "1 100001 65535"])
        #expect(notices.count == 1)
        #expect(notices[0].contains("root"))
    }

    @Test func uidAbove65535KeepsTheWholeWindowAndAddsItself() {
        let (map, notices) = IDMapPlanner.passthrough(id: 70000, ranges: recipeRange, kind: .uid, userName: "big")
        #expect(map.map(\.description) == ["0 100000 65536", "70000 70000 1"])
        #expect(notices.isEmpty)
    }

    @Test func smallRangeMapsWhatIsAvailableAndSaysWhatIsMissing() {
        let (map, notices) = IDMapPlanner.passthrough(id: 1000, ranges: [SubordinateIDRange(start: 100000, count: 2000)],
                                                      kind: .uid, userName: "alice")
        #expect(map.map(\.description) == ["0 100000 1000", "1000 1000 1", "1001 101000 1000"])
        #expect(notices.count == 1)
        #expect(notices[0].contains("only 2000 subordinate uids"))
        #expect(notices[0].contains("from 2001 up"))
        #expect(notices[0].contains("/etc/subuid"))
    }

    @Test func severalSmallRangesArePackedInOrder() {
        let ranges = [SubordinateIDRange(start: 300000, count: 40000), SubordinateIDRange(start: 100000, count: 30000)]
        let (map, notices) = IDMapPlanner.passthrough(id: 1000, ranges: ranges, kind: .gid, userName: "alice")
        // Sorted host ranges: 100000+30000 then 300000+40000, 65535 ids needed.
        #expect(map.map(\.description) == ["0 100000 1000", "1000 1000 1", "1001 101000 29000", "30001 300000 35535"])
        #expect(notices.isEmpty)
    }

    @Test func aDelegationContainingTheUsersOwnIDNeverHandsItOutTwice() {
        let (map, _) = IDMapPlanner.passthrough(id: 1000, ranges: [SubordinateIDRange(start: 0, count: 70000)],
                                                kind: .uid, userName: "odd")
        let outsides = map.flatMap { m in (0..<m.count).map { m.outside + $0 } }
        #expect(outsides.filter { $0 == 1000 }.count == 1)
        #expect(Set(outsides).count == outsides.count)
    }

    @Test func noRangeGivesASingleIDMapAndANotice() {
        let plan = IDMapPlanner.passthrough(uid: 1000, gid: 1000, userName: "alice", subuid: [], subgid: [])
        #expect(plan.uidMap.map(\.description) == ["1000 1000 1"])
        #expect(plan.gidMap.map(\.description) == ["1000 1000 1"])
        #expect(plan.notices.count == 2)
        #expect(plan.notices[0].contains("no subordinate uids for alice in /etc/subuid"))
        #expect(plan.notices[1].contains("/etc/subgid"))
    }

    @Test func planPrefersExplicitLinesPerKind() {
        var settings = Profile.IDMapSettings()
        settings.uid = [IDMapping(inside: 0, outside: 1000, count: 1)]
        let plan = IDMapPlanner.plan(settings: settings, uid: 1000, gid: 1000, userName: "alice", subuid: recipeRange, subgid: recipeRange)
        #expect(plan.uidMap.map(\.description) == ["0 1000 1"])
        #expect(plan.gidMap.map(\.description) == ["0 100000 1000", "1000 1000 1", "1001 101001 64535"])
        settings = Profile.IDMapSettings()
        settings.passthrough = false
        let single = IDMapPlanner.plan(settings: settings, uid: 1000, gid: 1000, userName: "alice", subuid: recipeRange, subgid: recipeRange)
        #expect(single.uidMap.map(\.description) == ["1000 1000 1"])
    }
}

@Suite struct ExplicitIDMapLines {
    let delegated = [SubordinateIDRange(start: 100000, count: 65536)]

    func problems(_ lines: [String]) -> [IDMapProblem] {
        IDMapLines.validate(lines, kind: .uid, ownID: 1000, userName: "alice", delegated: delegated).problems
    }

    @Test func theRecipeIsValid() {
        let r = IDMapLines.validate(["0 100000 1000", "1000 1000 1", "1001 101001 64535"], kind: .uid, ownID: 1000,
                                    userName: "alice", delegated: delegated)
        #expect(r.problems.isEmpty)
        #expect(r.maps.count == 3)
    }

    @Test func syntax() {
        let p = problems(["0 100000", "a b c", "0 100000 0"])
        #expect(p.map(\.kind) == [.syntax, .syntax, .syntax])
        #expect(p.map(\.index) == [0, 1, 2])
    }

    @Test func outOfRange() {
        let p = problems(["0 4294967295 2", "4294967296 100000 1"])
        #expect(p.map(\.kind) == [.range, .range])
    }

    @Test func overlapsInsideAndOutside() {
        let p = problems(["0 100000 1000", "500 110000 10", "2000 100500 10"])
        #expect(p.map(\.kind) == [.overlap, .overlap])
        #expect(p[0].message.contains("inside the container"))
        #expect(p[1].message.contains("on the host"))
    }

    @Test func notDelegated() {
        let p = problems(["0 200000 10", "10 1000 1", "20 2000 2"])
        // own uid with count 1 is fine; count 2 is not, and 200000 is not delegated.
        #expect(p.map(\.kind) == [.notDelegated, .notDelegated])
        #expect(p.map(\.index) == [0, 2])
        #expect(p[0].message.contains("/etc/subuid"))
        #expect(p[0].hint?.contains("usermod --add-subuids 200000-200009 alice") == true)
        #expect(p[1].message.contains("2000–2001"))
    }
}

/// The user's supplementary groups that /etc/subgid delegates (an admin's
/// `alice:44:1`) are mapped 1:1 and carved out of the subordinate layout, so
/// sessions can keep them with setgroups.
@Suite struct DelegatedGroupMaps {
    let recipe = SubordinateIDRange(start: 100000, count: 65536)

    /// Every line as newgidmap and the kernel check it: delegated (or the own gid,
    /// count 1), no overlap inside or on the host.
    func expectNewgidmapAccepts(_ map: [IDMapping], gid: UInt32, delegated: [SubordinateIDRange]) {
        let r = IDMapLines.validate(map.map(\.description), kind: .gid, ownID: gid, userName: "alice", delegated: delegated)
        #expect(r.problems.isEmpty, "\(r.problems.map(\.message))")
    }

    @Test func delegatedVideoIsMappedOneToOneUndelegatedRenderIsNot() {
        let subgid = [recipe, SubordinateIDRange(start: 44, count: 1)]
        let plan = IDMapPlanner.plan(settings: .init(), uid: 1000, gid: 1000, userName: "alice",
                                     subuid: [recipe], subgid: subgid, groups: [1000, 105, 44, 44])
        #expect(plan.gidMap.map(\.description) == ["0 100000 44", "44 44 1", "45 100045 955", "1000 1000 1", "1001 101001 64535"])
        #expect(plan.uidMap.map(\.description) == ["0 100000 1000", "1000 1000 1", "1001 101001 64535"])
        #expect(plan.keptGroups == [44])
        #expect(plan.notices.isEmpty)
        expectNewgidmapAccepts(plan.gidMap, gid: 1000, delegated: subgid)
        // Mapping render (105) as well is exactly what newgidmap would refuse.
        let withRender = plan.gidMap + [IDMapping(inside: 105, outside: 105, count: 1)]
        let r = IDMapLines.validate(withRender.map(\.description), kind: .gid, ownID: 1000, userName: "alice", delegated: subgid)
        #expect(r.problems.contains { $0.kind == .notDelegated })
    }

    @Test func splitNamesDelegatedAndUndelegatedGroupsWithoutPrimaryOrRoot() {
        let split = IDMapPlanner.delegatedGroups([105, 0, 1000, 29, 44, 4044], primary: 1000,
                                                 delegated: [recipe, SubordinateIDRange(start: 0, count: 1), SubordinateIDRange(start: 4040, count: 10),
                                                             SubordinateIDRange(start: 44, count: 1)])
        #expect(split.delegated == [44, 4044])
        #expect(split.undelegated == [29, 105])
    }

    @Test func severalGroupsAreEachCarvedOut() {
        let subgid = [recipe, SubordinateIDRange(start: 29, count: 1), SubordinateIDRange(start: 44, count: 1), SubordinateIDRange(start: 4044, count: 1)]
        let plan = IDMapPlanner.plan(settings: .init(), uid: 1000, gid: 1000, userName: "alice",
                                     subuid: [recipe], subgid: subgid, groups: [29, 44, 4044])
        #expect(plan.gidMap.map(\.description) == ["0 100000 29", "29 29 1", "30 100030 14", "44 44 1", "45 100045 955",
                                                   "1000 1000 1", "1001 101001 3043", "4044 4044 1", "4045 104045 61491"])
        #expect(plan.keptGroups == [29, 44, 4044])
        expectNewgidmapAccepts(plan.gidMap, gid: 1000, delegated: subgid)
        // Every container gid 0–65535 is mapped exactly once.
        let inside = plan.gidMap.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        #expect(inside == 65536)
    }

    @Test func aGroupInsideTheSubordinateRangeIsNotHandedOutTwice() {
        // An odd but legal delegation: the group's gid lies in the user's own range.
        let subgid = [SubordinateIDRange(start: 100000, count: 70000)]
        let plan = IDMapPlanner.plan(settings: .init(), uid: 1000, gid: 1000, userName: "alice",
                                     subuid: [recipe], subgid: subgid, groups: [100044])
        #expect(plan.keptGroups == [100044])
        #expect(plan.gidMap.contains(IDMapping(inside: 100044, outside: 100044, count: 1)))
        expectNewgidmapAccepts(plan.gidMap, gid: 1000, delegated: subgid)
        let outsides = plan.gidMap.flatMap { m in (0..<m.count).map { m.outside + $0 } }
        #expect(Set(outsides).count == outsides.count)
    }

    @Test func packedLayoutSkipsKeptGroupsAndSaysWhatIsMissing() {
        let subgid = [SubordinateIDRange(start: 100000, count: 2000), SubordinateIDRange(start: 29, count: 1)]
        let (map, notices) = IDMapPlanner.passthrough(id: 1000, ranges: subgid, kind: .gid, userName: "alice", keep: [29])
        #expect(map.map(\.description) == ["0 100000 29", "29 29 1", "30 100029 970", "1000 1000 1", "1001 100999 1001"])
        #expect(notices.count == 1)
        #expect(notices[0].contains("from 2002 up (except 29, 1000)"))
        expectNewgidmapAccepts(map, gid: 1000, delegated: subgid)
    }

    @Test func onlyTheGroupDelegatedStillMapsIt() {
        let subgid = [SubordinateIDRange(start: 44, count: 1)]
        let plan = IDMapPlanner.plan(settings: .init(), uid: 1000, gid: 1000, userName: "alice",
                                     subuid: [recipe], subgid: subgid, groups: [44])
        #expect(plan.gidMap.map(\.description) == ["44 44 1", "1000 1000 1"])
        #expect(plan.keptGroups == [44])
        #expect(plan.notices.count == 1)
        #expect(plan.notices[0].contains("only gid 1000 and your groups 44 are mapped"))
        expectNewgidmapAccepts(plan.gidMap, gid: 1000, delegated: subgid)
    }

    @Test func explicitLinesKeepWhatTheyMapOneToOneAndSinglePassthroughKeepsNothing() {
        var settings = Profile.IDMapSettings()
        settings.gid = [IDMapping(inside: 0, outside: 100000, count: 44), IDMapping(inside: 44, outside: 44, count: 1),
                        IDMapping(inside: 1000, outside: 1000, count: 1)]
        let explicit = IDMapPlanner.plan(settings: settings, uid: 1000, gid: 1000, userName: "alice",
                                         subuid: [recipe], subgid: [recipe], groups: [29, 44])
        #expect(explicit.keptGroups == [44])
        settings = Profile.IDMapSettings()
        settings.passthrough = false
        let single = IDMapPlanner.plan(settings: settings, uid: 1000, gid: 1000, userName: "alice",
                                       subuid: [recipe], subgid: [recipe, SubordinateIDRange(start: 44, count: 1)], groups: [44])
        #expect(single.keptGroups.isEmpty)
        #expect(single.gidMap.map(\.description) == ["1000 1000 1"])
    }

    @Test func keptGroupsAreCappedAtTheInitsBuffer() {
        let groups = (2000..<2100).map { UInt32($0) }
        let plan = IDMapPlanner.plan(settings: .init(), uid: 1000, gid: 1000, userName: "alice",
                                     subuid: [recipe], subgid: [recipe, SubordinateIDRange(start: 2000, count: 100)], groups: groups)
        #expect(plan.keptGroups.count == IDMapPlanner.maxKeptGroups)
        #expect(plan.notices.contains { $0.contains("only the first 64") })
        #expect(plan.gidMap.count <= IDMapLines.maxLines)
    }

    @Test func setgroupsIsAllowedOnlyWithASubordinateGIDRange() {
        var plan = LaunchPlan(name: "a", hostname: "a")
        plan.gid = 1000
        plan.gidMap = [IDMapping(inside: 1000, outside: 1000, count: 1)]
        #expect(!plan.setgroupsAllowed)          // newgidmap or our direct write: "deny"
        plan.gidMap = [IDMapping(inside: 0, outside: 1000, count: 1)]
        #expect(!plan.setgroupsAllowed)
        plan.gidMap = [IDMapping(inside: 44, outside: 44, count: 1), IDMapping(inside: 1000, outside: 1000, count: 1)]
        #expect(plan.setgroupsAllowed)
    }
}
