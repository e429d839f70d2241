// The lease database format, names and IPv4 text, through the helper's C functions.
import CSandboxNet
import Testing

private func parseLeases(_ bytes: [UInt8]) -> (leases: [sbxnet_lease], error: (line: Int32, message: String)?) {
    var out = [sbxnet_lease](repeating: sbxnet_lease(), count: 16)
    var n = 0
    var err = sbxnet_error()
    let rc = bytes.withUnsafeBufferPointer { buf in
        UnsafeRawPointer(buf.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            .withMemoryRebound(to: CChar.self, capacity: max(buf.count, 1)) {
                sbxnet_leases_parse($0, buf.count, &out, out.count, &n, &err)
            }
    }
    if rc != 0 {
        #expect(n == 0)
        return ([], (err.line, cString(&err.message)))
    }
    return (Array(out.prefix(n)), nil)
}

private func parseLeases(_ text: String) -> (leases: [sbxnet_lease], error: (line: Int32, message: String)?) {
    parseLeases(Array(text.utf8))
}

private func format(_ lease: sbxnet_lease) -> String {
    var lease = lease
    var buf = [CChar](repeating: 0, count: 128)
    let n = sbxnet_lease_format(&lease, &buf, buf.count)
    return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Test func wellFormedLeasesRoundTripExactly() {
    let text = "1001 sandboxbr0 sbx1001a0 12 10.0.3.2 4026532318\n1002 br1 sbx1002az 0 10.0.3.3 1\n"
    let r = parseLeases(text)
    #expect(r.error == nil)
    #expect(r.leases.count == 2)
    guard r.leases.count == 2 else { return }
    #expect(r.leases[0].uid == 1001 && r.leases[0].ifindex == 12 && r.leases[0].netns_ino == 4026532318)
    var l0 = r.leases[0], l1 = r.leases[1]
    #expect(cString(&l0.host) == "sbx1001a0")
    #expect(cString(&l1.bridge) == "br1")
    #expect(r.leases[1].ifindex == 0, "0 is a reservation")
    #expect(r.leases.map(format).joined() == text)
}

@Test func emptyFileHasNoLeases() {
    let r = parseLeases("")
    #expect(r.error == nil && r.leases.isEmpty)
}

@Test(arguments: [
    ("1001 br0 sbx1002a0 1 10.0.3.2 1\n", "not named for uid"),   // an entry claiming another uid's interface
    ("1001 br0 sbx1001 1 10.0.3.2 1\n", "not named for uid"),
    ("1001 br0 sbx10010a0 1 10.0.3.2 1\n", "not named for uid"),  // uid 1001 vs 10010
    ("1001 br0 sbx1001a 1 10.0.3.2 1\n", "not named for uid"),
    ("1001 br0 sbx1001a0 1 10.0.3.2\n", "expected 6 fields"),
    ("1001 br0 sbx1001a0 1 10.0.3.2 1 x\n", "expected 6 fields"),
    ("1001  br0 sbx1001a0 1 10.0.3.2 1\n", "expected 6 fields"),
    (" 1001 br0 sbx1001a0 1 10.0.3.2 1\n", "expected 6 fields"),
    ("1001\tbr0 sbx1001a0 1 10.0.3.2 1\n", "expected 6 fields"),
    ("01001 br0 sbx1001a0 1 10.0.3.2 1\n", "bad uid"),
    ("4294967295 br0 sbx4294967295a0 1 10.0.3.2 1\n", "bad uid"),
    ("1001 br/0 sbx1001a0 1 10.0.3.2 1\n", "bad bridge"),
    ("1001 br0 sbx1001a0 -1 10.0.3.2 1\n", "bad interface index"),
    ("1001 br0 sbx1001a0 2147483648 10.0.3.2 1\n", "bad interface index"),
    ("1001 br0 sbx1001a0 1 10.0.3.256 1\n", "bad address"),
    ("1001 br0 sbx1001a0 1 10.0.03.2 1\n", "bad address"),
    ("1001 br0 sbx1001a0 1 10.0.3 1\n", "bad address"),
    ("1001 br0 sbx1001a0 1 10.0.3.2 18446744073709551616\n", "bad namespace inode"),
    ("1001 br0 sbx1001a0 1 10.0.3.2 1\n1001 br0 sbx1001a0 2 10.0.3.3 1\n", "duplicate"),
    ("1001 br0 sbx1001a0 1 10.0.3.2 1\n1001 br0 sbx1001a1 2 10.0.3.2 1\n", "duplicate"),
    ("1001 br0 sbx1001a0 1 10.0.3.2 1", "newline"),
    ("\n", "expected 6 fields"),
] as [(String, String)])
func malformedLeaseFilesAreRefused(text: String, message: String) {
    let r = parseLeases(text)
    #expect(r.leases.isEmpty)
    #expect(r.error?.message.contains(message) == true, "\(text): \(String(describing: r.error))")
}

@Test func lineNumbersPointAtTheBadLine() {
    let r = parseLeases("1001 br0 sbx1001a0 1 10.0.3.2 1\n1001 br0 sbx1001a1 1 10.0.3.x 1\n")
    #expect(r.error?.line == 2)
}

@Test func nulByteIsRefused() {
    var bytes = Array("1001 br0 sbx1001a0 1 10.0.3.2 1\n".utf8)
    bytes.insert(0, at: 5)
    #expect(parseLeases(bytes).error?.message.contains("NUL") == true)
}

@Test func hostInterfaceNamesFitIFNAMSIZ() {
    func name(_ uid: UInt32, _ slot: UInt32) -> String? {
        var buf = [CChar](repeating: 0, count: Int(SBXNET_IFNAMSIZ))
        guard sbxnet_host_ifname(uid, slot, &buf) == 0 else { return nil }
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
    #expect(name(1000, 0) == "sbx1000a0")
    #expect(name(1000, 35) == "sbx1000az")
    #expect(name(1000, 36) == "sbx1000a10")
    #expect(name(4294967294, 35) == "sbx4294967294az")
    #expect(name(4294967294, 36) == nil, "16 characters do not fit")
}

@Test(arguments: [
    ("eth0", true), ("sandboxbr0", true), ("a.b-c_d", true), ("123456789012345", true),
    ("", false), (".", false), ("..", false), ("1234567890123456", false),
    ("a/b", false), ("a b", false), ("a:b", false), ("eth0\n", false), ("é", false),
])
func interfaceNameValidation(name: String, valid: Bool) {
    #expect((sbxnet_valid_ifname(name) == 1) == valid)
}

@Test(arguments: [
    ("10.0.3.2", true), ("0.0.0.0", true), ("255.255.255.255", true),
    ("256.0.0.1", false), ("1.2.3", false), ("1.2.3.4.5", false), ("01.2.3.4", false),
    (" 1.2.3.4", false), ("1.2.3.4 ", false), ("1..3.4", false), ("", false), ("a.b.c.d", false),
])
func ipv4TextIsStrict(text: String, valid: Bool) {
    var be: UInt32 = 0
    let rc = sbxnet_parse_ipv4(text, text.utf8.count, &be)
    #expect((rc == 0) == valid)
    if valid {
        var buf = [CChar](repeating: 0, count: 16)
        sbxnet_format_ipv4(be, &buf)
        #expect(buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } == text)
    }
}
