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
        #expect(plan.needsSetuidHelpers)
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
        #expect(!plan.needsSetuidHelpers)
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

@Suite struct TildeExpansion {
    @Test func mountsExpandAgainstTheRightHome() {
        let m = Profile.Mount(source: "~/Downloads", target: "~/dl")
        #expect(m.hostSource(home: "/home/alice") == "/home/alice/Downloads")
        #expect(m.containerTarget(home: "/home/alice/") == "/home/alice/dl")
        #expect(Profile.expandingTilde("~", home: "/h") == "/h")
        #expect(Profile.expandingTilde("/abs/~x", home: "/h") == "/abs/~x")
    }

    @Test func storeReadsTheDelegationFiles() {
        let tree = TempTree()
        defer { tree.remove() }
        var store = tree.store()
        store.subgidFile = tree.write("etc/subgid2", "alice:200000:100\n1000:300000:5\nbob:1:1\n")
        let ids = store.delegatedIDs()
        #expect(ids.subuid == [SubordinateIDRange(start: 100000, count: 65536)])
        #expect(ids.subgid == [SubordinateIDRange(start: 200000, count: 100), SubordinateIDRange(start: 300000, count: 5)])
    }
}
