import Testing
@testable import SandboxCore

@Test func leadingLogOptionsMoveAfterTheCommandWords() {
    #expect(LogSetup.hoistingLogOptions(["-l", "debug", "-o", "/tmp/x.log", "run", "firefox"])
            == ["run", "firefox", "-l", "debug", "-o", "/tmp/x.log"])
    #expect(LogSetup.hoistingLogOptions(["--log-level=info", "profile", "show", "gimp"])
            == ["profile", "show", "gimp", "--log-level=info"])
}

@Test func logOptionsStayBeforeTheAppsArguments() {
    #expect(LogSetup.hoistingLogOptions(["-l", "debug", "run", "x", "--", "-l", "app"])
            == ["run", "x", "-l", "debug", "--", "-l", "app"])
}

@Test func argumentsWithoutLeadingLogOptionsAreUnchanged() {
    for args in [["run", "x", "-l", "debug"], ["--version"], [], ["-l"], ["exec", "x", "--", "-o", "y"]] {
        #expect(LogSetup.hoistingLogOptions(args) == args)
    }
}

@Test func planSummaryNamesNamespacesMapsAndCounts() {
    var plan = LaunchPlan(name: "x", hostname: "x")
    plan.namespaces = [.user, .mount, .pid]
    plan.uidMap = [IDMapping(inside: 1000, outside: 1000, count: 1)]
    plan.mounts = [.proc(target: "/proc")]
    plan.notices = ["a", "b"]
    plan.seccompFilter = [UInt8](repeating: 0, count: 16)
    plan.argv = ["/bin/true"]
    #expect(plan.summary == "namespaces [user mount pid], uid map [1000 1000 1], gid map [], 1 mount, 2 notices, seccomp 2 instructions, argv /bin/true")
}
