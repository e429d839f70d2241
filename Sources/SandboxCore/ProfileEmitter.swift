// Writes a merged Profile back as TOML (`sandbox profile show`). The output is
// standalone: includes are already applied (listed in a comment, not as an
// `include` key, which would merge them a second time), and every key is written
// with its effective value, so parsing it again yields the same Profile.

public enum TOMLEmitter {
    public static func emit(_ p: Profile) -> String {
        var out: [String] = []
        out.append("# Profile '\(p.name)' from \(p.sourcePath), fully merged.")
        if !p.include.isEmpty {
            out.append("# Includes already applied: " + p.include.joined(separator: ", "))
        }
        out.append("description = \(quoted(p.description))")
        if !p.command.isEmpty { out.append("command = \(array(p.command))") }

        section(&out, "rootfs")
        out.append("mode = \(quoted(p.rootfs.mode.rawValue))")
        if let path = p.rootfs.path { out.append("path = \(quoted(path))") }

        section(&out, "home")
        out.append("mode = \(quoted(p.home.mode.rawValue))")

        section(&out, "idmap")
        out.append("passthrough = \(p.idmap.passthrough)")
        if !p.idmap.uid.isEmpty { out.append("uid = \(array(p.idmap.uid.map(\.description)))") }
        if !p.idmap.gid.isEmpty { out.append("gid = \(array(p.idmap.gid.map(\.description)))") }

        section(&out, "devices")
        out.append("dri = \(p.devices.dri)")
        out.append("snd = \(p.devices.snd)")
        out.append("video = \(p.devices.video)")
        out.append("extra = \(array(p.devices.extra))")
        out.append("required = \(p.devices.required)")

        section(&out, "x11")
        out.append("mode = \(quoted(p.x11.mode.rawValue))")
        out.append("required = \(p.x11.required)")

        section(&out, "pulse")
        out.append("mode = \(quoted(p.pulse.mode.rawValue))")
        out.append("required = \(p.pulse.required)")
        out.append("microphone = \(p.pulse.microphone)")

        section(&out, "wayland")
        out.append("enabled = \(p.wayland.enabled)")

        section(&out, "network")
        out.append("mode = \(quoted(p.network.mode.rawValue))")
        if let bridge = p.network.bridge {
            out.append("bridge = \(quoted(bridge))")
        } else {
            out.append("# bridge: the per-user default (config.toml bridge, else \"sandboxbr0\")")
        }
        for (key, ports) in [("inbound_tcp", p.network.inboundTCP), ("inbound_udp", p.network.inboundUDP),
                             ("host_loopback_tcp", p.network.hostLoopbackTCP), ("host_loopback_udp", p.network.hostLoopbackUDP)]
        where !ports.isEmpty {
            out.append("\(key) = [\(ports.map(String.init).joined(separator: ", "))]")
        }

        section(&out, "files")
        out.append("hand_over = \(quoted(p.files.handOver.rawValue))")

        section(&out, "dbus")
        out.append("mode = \(quoted(p.dbus.mode.rawValue))")
        func rules(_ r: DBusRules) {
            for (key, list) in [("talk", r.talk), ("own", r.own), ("see", r.see), ("call", r.call), ("broadcast", r.broadcast)] where !list.isEmpty {
                out.append("\(key) = \(array(list))")
            }
        }
        rules(p.dbus.session)
        if !p.dbus.system.isEmpty {
            section(&out, "dbus.system")
            rules(p.dbus.system)
        }

        section(&out, "env")
        for key in p.env.keys.sorted() {
            out.append("\(KeyPath.isBare(key) ? key : quoted(key)) = \(quoted(p.env[key]!))")
        }

        for m in p.mounts {
            out.append("")
            out.append("[[mount]]")
            out.append("source = \(quoted(m.source))")
            out.append("target = \(quoted(m.target))")
            out.append("readonly = \(m.readonly)")
            out.append("optional = \(m.optional)")
        }

        section(&out, "seccomp")
        out.append("profile = \(quoted(p.seccomp.profile.rawValue))")
        out.append("allow_userns = \(p.seccomp.allowUserns)")
        out.append("multiarch = \(p.seccomp.multiarch)")
        out.append("allow = \(array(p.seccomp.allow))")
        out.append("deny = \(array(p.seccomp.deny))")

        section(&out, "session")
        out.append("stop_timeout = \(p.session.stopTimeout)")

        section(&out, "limits")
        out.append("processes = \(p.limits.processes)")

        section(&out, "image")
        out.append("distro = \(quoted(p.image.distro))")
        out.append("release = \(quoted(p.image.release))")
        out.append("arch = \(quoted(p.image.arch))")
        out.append("variant = \(quoted(p.image.variant))")
        out.append("components = \(array(p.image.components))")
        out.append("foreign_architectures = \(array(p.image.foreignArchitectures))")
        out.append("packages = \(array(p.image.packages))")
        out.append("sources = \(array(p.image.sources))")
        out.append("keys = \(array(p.image.keys))")
        out.append("key_fingerprints = \(array(p.image.keyFingerprints))")

        section(&out, "desktop")
        if let v = p.desktop.name { out.append("name = \(quoted(v))") }
        if let v = p.desktop.icon { out.append("icon = \(quoted(v))") }
        if let v = p.desktop.comment { out.append("comment = \(quoted(v))") }
        out.append("categories = \(array(p.desktop.categories))")
        out.append("mime_types = \(array(p.desktop.mimeTypes))")
        return out.joined(separator: "\n") + "\n"
    }

    private static func section(_ out: inout [String], _ name: String) {
        out.append("")
        out.append("[\(name)]")
    }

    static func array(_ values: [String]) -> String {
        "[" + values.map(quoted).joined(separator: ", ") + "]"
    }

    /// A TOML basic string with every character TOML requires escaped.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    let hex = String(u.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
