import Testing
@testable import SandboxCore

/// The app's environment is built from nothing (as `lxc-attach --clear-env`):
/// the host's variables leak session secrets and host-only paths.
@Suite struct AppEnvironment {
    let user = UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice", shell: "/bin/zsh", groups: [44])
    let host = [
        "HOME": "/home/alice", "PATH": "/home/alice/bin:/usr/bin", "LANG": "de_DE.UTF-8", "LC_TIME": "en_GB.UTF-8",
        "TERM": "xterm-256color", "SSH_AUTH_SOCK": "/tmp/ssh-XXX/agent.1", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
        "DISPLAY": ":0", "XAUTHORITY": "/home/alice/.Xauthority", "GITHUB_TOKEN": "secret", "XDG_RUNTIME_DIR": "/run/user/1000",
    ]

    func environment(_ profile: Profile = Profile(name: "app", sourcePath: "/p.toml"), user: UserIdentity? = nil,
                     host: [String: String]? = nil) -> [String] {
        LaunchPlanner.environment(profile: profile, user: user ?? self.user, home: "/home/alice", host: host ?? self.host)
    }

    @Test func onlyTheAllowListIsCarriedOver() {
        #expect(environment() == [
            "HOME=/home/alice", "USER=alice", "LOGNAME=alice", "SHELL=/bin/zsh", "PATH=" + LaunchPlanner.defaultPath,
            "XDG_RUNTIME_DIR=/run/user/1000", "container=sandbox", "SANDBOX_NAME=app",
            "TERM=xterm-256color", "LANG=de_DE.UTF-8", "LC_TIME=en_GB.UTF-8",
        ])
        for key in ["SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS", "GITHUB_TOKEN", "DISPLAY", "XAUTHORITY"] {
            #expect(!environment().contains { $0.hasPrefix(key + "=") }, "\(key) leaked")
        }
    }

    @Test func theProfileWinsAndGamesAreOnThePath() {
        var p = Profile(name: "app", sourcePath: "/p.toml")
        p.env = ["PATH": "/opt/app/bin:/usr/bin", "QT_X11_NO_MITSHM": "1"]
        let env = environment(p)
        #expect(env.contains("PATH=/opt/app/bin:/usr/bin") && env.contains("QT_X11_NO_MITSHM=1"))
        #expect(env.filter { $0.hasPrefix("PATH=") }.count == 1)
        #expect(LaunchPlanner.defaultPath.split(separator: ":").contains("/usr/games"))
    }

    @Test func anEmptyShellIsBinSh() {
        var u = user
        u.shell = ""
        #expect(environment(user: u, host: [:]).contains("SHELL=/bin/sh"))
        #expect(!environment(user: u, host: [:]).contains { $0.hasPrefix("TERM=") })
    }
}
