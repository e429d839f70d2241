import Testing
import ArgumentParser
import SandboxPlan
import SandboxTestSupport
@testable import sandbox

/// `LaunchRequest.plainForm` reads four command shapes without the argument
/// parser. Wherever it answers, its answer must be the parser's.
@Suite struct LaunchRequestTests {
    /// What the parser makes of the arguments, as `main` parses them (options
    /// hoisted, then the root command's parse).
    static func parsed(_ arguments: [String]) -> LaunchRequest? {
        guard let command = try? Sandbox.parseAsRoot(LogSetup.hoistingLogOptions(arguments)) else { return nil }
        return (command as? any LaunchCommand)?.request
    }

    @Test func theLauncherAndJoinShapesAreReadPlainly() {
        #expect(LaunchRequest.plainForm(["run", "firefox"]) == .run(profile: "firefox", args: [], logDBus: false, log: LogOptions()))
        #expect(LaunchRequest.plainForm(["run", "firefox", "--", "%U", "--new-window"])
                == .run(profile: "firefox", args: ["%U", "--new-window"], logDBus: false, log: LogOptions()))
        #expect(LaunchRequest.plainForm(["exec", "web", "--", "ls", "-l"])
                == .exec(profile: "web", command: ["ls", "-l"], root: false, log: LogOptions()))
        #expect(LaunchRequest.plainForm(["exec", "web"]) == .exec(profile: "web", command: [], root: false, log: LogOptions()))
        #expect(LaunchRequest.plainForm(["start", "web"]) == .start(profile: "web", log: LogOptions()))
        #expect(LaunchRequest.plainForm(["stop", "web"]) == .stop(profile: "web", timeout: nil, log: LogOptions()))
    }

    @Test func optionsHelpAndMistakesGoToTheParser() {
        for arguments in [
            [], ["run"], ["run", "--help"], ["run", "-h"], ["help", "run"],
            ["run", "firefox", "extra"], ["run", "-l", "debug", "firefox"], ["run", "firefox", "--log-dbus"],
            ["exec", "--root", "web"], ["exec", "web", "--root", "--", "id"], ["stop", "web", "--timeout", "3"],
            ["stop", "web", "--", "x"], ["start", "web", "--"], ["list"], ["status", "web"], ["run", ""],
            ["-l", "debug", "run", "firefox"], ["--version"], ["run", "-", "--", "x"],
        ] {
            #expect(LaunchRequest.plainForm(arguments) == nil, "\(arguments)")
        }
    }

    /// Every argument list of up to three tokens from the corpus, and seeded random
    /// ones of up to six: where the plain reading answers, the parser agrees.
    @Test func everyPlainReadingIsTheParsersReading() {
        let tokens = ["run", "exec", "start", "stop", "list", "help", "firefox", "web", "--", "-l", "debug",
                      "-o", "--root", "--log-dbus", "--help", "-h", "--version", "-", "--timeout", "3",
                      "a b", "--x=1", "%U", "", "-1", "--log-level=info"]
        var lists: [[String]] = [[]]
        for length in 1...3 {
            var next: [[String]] = []
            for prefix in lists where prefix.count == length - 1 {
                for t in tokens { next.append(prefix + [t]) }
            }
            lists += next
        }
        var random = SplitMix(seed: 0x5EED_CAFE)
        let verbs = ["run", "exec", "start", "stop"]
        for _ in 0..<6000 {
            var arguments = [verbs[Int(random.next() % 4)]]
            for _ in 0..<Int(random.next() % 6) { arguments.append(tokens[Int(random.next() % UInt64(tokens.count))]) }
            lists.append(arguments)
        }
        var answered = 0
        for arguments in lists {
            guard let plain = LaunchRequest.plainForm(arguments) else { continue }
            answered += 1
            #expect(Self.parsed(arguments) == plain, "\(arguments)")
        }
        // The corpus reaches every shape many times over, not just a few lists.
        #expect(answered > 500)
    }
}

@Suite struct PlainVersionTests {
    @Test func theVersionIsWhatTheParserPrints() {
        #expect(throws: (any Error).self) { _ = try Sandbox.parseAsRoot(["--version"]) }
        do {
            _ = try Sandbox.parseAsRoot(["--version"])
        } catch {
            #expect(Sandbox.fullMessage(for: error) == Sandbox.plainVersion)
        }
    }
}
