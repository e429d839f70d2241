import Testing
@testable import SandboxCore

@Test func textHasOneLinePerCheckAndHintsOnlyWhenNotOk() {
    let r = DoctorReport([
        DoctorCheck("user-namespaces", .ok, "available", hint: "never shown"),
        DoctorCheck("x11", .fail, "cannot open display :9", hint: "start X"),
        DoctorCheck("pulseaudio", .warn, "unreachable", hint: "start it"),
    ])
    #expect(r.text == """
        ok    user-namespaces: available
        FAIL  x11: cannot open display :9
              hint: start X
        WARN  pulseaudio: unreachable
              hint: start it

        """)
}

@Test func onlyFailuresMakeTheExitStatusNonZero() {
    #expect(DoctorReport([DoctorCheck("a", .ok, ""), DoctorCheck("b", .warn, "")]).exitStatus == 0)
    #expect(DoctorReport([DoctorCheck("a", .ok, ""), DoctorCheck("b", .fail, "")]).exitStatus == 1)
    #expect(DoctorReport([]).runCanWork)
}

@Test func jsonEscapesAndUsesNullForNoHint() {
    let r = DoctorReport([DoctorCheck("x", .warn, "say \"hi\"\\\n\u{1}", hint: nil)])
    #expect(r.json == "{\"ok\": true, \"checks\": [{\"name\": \"x\", \"status\": \"warn\", \"finding\": \"say \\\"hi\\\"\\\\\\n\\u0001\", \"hint\": null}]}\n")
}

@Test func usernetSumsUserAndGroupLinesPerBridge() {
    let f = UsernetFile(parsing: """
        # comment
        alice veth sandboxbr0 2
        @video veth sandboxbr0 3   # trailing comment
        @staff veth br1 1
        bob veth sandboxbr0 9
        alice macvlan br2 4

        broken line
        carol veth br0 many
        """)
    #expect(f.entries.count == 5)
    #expect(f.problems == [
        "/etc/sandbox/usernet:8: expected 'USER|@GROUP veth BRIDGE COUNT', got 2 fields",
        "/etc/sandbox/usernet:9: COUNT 'many' is not a non-negative number",
    ])
    let a = f.allowance(user: "alice", groups: ["alice", "video"])
    #expect(a.map(\.bridge) == ["sandboxbr0"])
    #expect(a.map(\.count) == [5])
    #expect(f.allowance(user: "dave", groups: ["staff"]).map(\.bridge) == ["br1"])
    #expect(f.allowance(user: "eve", groups: []).isEmpty)
}

@Test func subordinateRangesMatchNameOrUid() {
    let text = "alice:100000:65536\n1001:200000:10\n#alice:1:1\nbob:300000:65536\nalice:bad:1\n"
    let r = SubordinateIDs.parse(contents: text, user: "alice", uid: 1001)
    #expect(r.map(\.start) == [100000, 200000])
    #expect(r.map(\.count) == [65536, 10])
    #expect(SubordinateIDs.parse(contents: text, user: "carol", uid: 5).isEmpty)
}
