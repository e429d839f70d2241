import SandboxCore
import Testing
@testable import SandboxDesktop

@Suite struct EnvironmentPlannerTests {
    let user = UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice", shell: "/bin/zsh", groups: [44])
    let host = [
        "HOME": "/home/alice", "PATH": "/home/alice/bin:/usr/bin", "LANG": "de_DE.UTF-8", "LC_TIME": "en_GB.UTF-8",
        "TERM": "xterm-256color", "SSH_AUTH_SOCK": "/tmp/ssh-XXX/agent.1", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
        "DISPLAY": ":0", "XAUTHORITY": "/home/alice/.Xauthority", "GITHUB_TOKEN": "secret", "XDG_RUNTIME_DIR": "/run/user/1000",
    ]

    @Test func baseCarriesOnlyTheAllowList() {
        let env = EnvironmentPlanner(user: user, hostEnvironment: host).base()
        #expect(env == [
            "HOME": "/home/alice", "USER": "alice", "LOGNAME": "alice", "SHELL": "/bin/zsh",
            "PATH": EnvironmentPlanner.defaultPath, "XDG_RUNTIME_DIR": "/run/user/1000",
            "LANG": "de_DE.UTF-8", "LC_TIME": "en_GB.UTF-8", "TERM": "xterm-256color",
        ])
    }

    @Test func secretsAndHostDisplayDoNotLeak() {
        let env = EnvironmentPlanner(user: user, hostEnvironment: host).environment(desktop: [:], profile: [:])
        for key in ["SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "GITHUB_TOKEN", "DISPLAY", "XAUTHORITY"] {
            #expect(!env.contains { $0.hasPrefix(key + "=") }, "\(key) leaked")
        }
    }

    @Test func precedenceIsBaseThenDesktopThenProfile() {
        let env = EnvironmentPlanner(user: user, hostEnvironment: host, home: "/home/alice", runtimeDir: "/run/user/1000")
            .environment(desktop: ["DISPLAY": ":0", "XAUTHORITY": "/run/user/1000/Xauthority"],
                         profile: ["DISPLAY": ":5", "QT_X11_NO_MITSHM": "1", "PATH": "/opt/app/bin:/usr/bin"])
        #expect(env.contains("DISPLAY=:5"))
        #expect(env.contains("XAUTHORITY=/run/user/1000/Xauthority"))
        #expect(env.contains("QT_X11_NO_MITSHM=1"))
        #expect(env.contains("PATH=/opt/app/bin:/usr/bin"))
        #expect(env == env.sorted { $0.split(separator: "=")[0] < $1.split(separator: "=")[0] })
    }

    @Test func insideHomeAndEmptyShell() {
        var u = user
        u.shell = ""
        let env = EnvironmentPlanner(user: u, hostEnvironment: [:], home: "/home/alice/sandbox").base()
        #expect(env["HOME"] == "/home/alice/sandbox")
        #expect(env["SHELL"] == "/bin/sh")
        #expect(env["TERM"] == nil)
    }
}
