// The /etc/sandbox/usernet parser, through the same C function the setuid helper runs.
import CSandboxNet
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Parses `text` for user sbtest in groups sbtest, video; returns grants or the error.
private func parse(_ text: String, user: String = "sbtest", groups: [String] = ["sbtest", "video"],
                   maxGrants: Int = Int(SBXNET_MAX_GRANTS)) -> (grants: [String: UInt32], error: (line: Int32, message: String)?) {
    parseBytes(Array(text.utf8), user: user, groups: groups, maxGrants: maxGrants)
}

private func parseBytes(_ bytes: [UInt8], user: String = "sbtest", groups: [String] = ["sbtest", "video"],
                        maxGrants: Int = Int(SBXNET_MAX_GRANTS)) -> (grants: [String: UInt32], error: (line: Int32, message: String)?) {
    let groupPtrs = groups.map { strdupC($0) }
    defer { groupPtrs.forEach { free($0) } }
    let userPtr = strdupC(user)
    defer { free(userPtr) }
    var grants = [sbxnet_grant](repeating: sbxnet_grant(), count: maxGrants)
    var n = 0
    var err = sbxnet_error()
    let constGroups: [UnsafePointer<CChar>?] = groupPtrs.map { UnsafePointer($0) }
    let rc = constGroups.withUnsafeBufferPointer { gp in
        var who = sbxnet_identity(user: userPtr, groups: gp.baseAddress, ngroups: gp.count)
        return bytes.withUnsafeBufferPointer { buf in
            UnsafeRawPointer(buf.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                .withMemoryRebound(to: CChar.self, capacity: max(buf.count, 1)) {
                    sbxnet_usernet_parse($0, buf.count, &who, &grants, maxGrants, &n, &err)
                }
        }
    }
    if rc != 0 {
        #expect(n == 0, "a refused file must grant nothing")
        return ([:], (err.line, cString(&err.message)))
    }
    var result: [String: UInt32] = [:]
    for g in grants.prefix(n) {
        var g = g
        result[cString(&g.bridge)] = g.count
    }
    return (result, nil)
}

@Test func userAndGroupLinesAreSummedPerBridge() {
    let r = parse("""
        # comment line
        sbtest veth sandboxbr0 2

        @video\tveth sandboxbr0 3   # trailing comment
        @video veth br1 1
        other veth sandboxbr0 50
        @audio veth sandboxbr0 7
        """)
    #expect(r.error == nil)
    #expect(r.grants == ["sandboxbr0": 5, "br1": 1])
}

@Test func nothingMatchesGivesNoGrants() {
    let r = parse("other veth sandboxbr0 2\n@wheel veth sandboxbr0 2\n", user: "sbtest", groups: ["sbtest"])
    #expect(r.error == nil)
    #expect(r.grants.isEmpty)
}

@Test func zeroCountIsAllowedAndGrantsNothingMore() {
    let r = parse("sbtest veth br0 0\n")
    #expect(r.error == nil)
    #expect(r.grants == ["br0": 0])
}

@Test func totalsSaturateAtTheMaximum() {
    let r = parse("sbtest veth br0 1000\nsbtest veth br0 1000\n")
    #expect(r.grants == ["br0": UInt32(SBXNET_MAX_COUNT)])
}

@Test(arguments: [
    ("sbtest veth br0 -1\n", 1, "COUNT"),
    ("sbtest veth br0 +1\n", 1, "COUNT"),
    ("sbtest veth br0 01\n", 1, "COUNT"),
    ("sbtest veth br0 1001\n", 1, "COUNT"),
    ("sbtest veth br0 18446744073709551617\n", 1, "COUNT"),
    ("sbtest veth br0 1x\n", 1, "COUNT"),
    ("sbtest veth br0\n", 1, "expected 4 fields"),
    ("sbtest veth br0 1 2\n", 1, "expected 4 fields"),
    ("# ok\nsbtest macvlan br0 1\n", 2, "veth"),
    ("sbtest veth br/0 1\n", 1, "bad bridge name"),
    ("sbtest veth 0123456789abcdef 1\n", 1, "longer than 15"),
    ("sbtest veth .. 1\n", 1, "bad bridge name"),
    ("@ veth br0 1\n", 1, "bad user or @group"),
    // A bad line for someone else still refuses the whole file: the admin must see it.
    ("sbtest veth br0 1\nother veth br0 -5\n", 2, "COUNT"),
] as [(String, Int32, String)])
func malformedLinesRefuseTheWholeFile(text: String, line: Int32, message: String) {
    let r = parse(text)
    #expect(r.grants.isEmpty)
    #expect(r.error?.line == line)
    #expect(r.error?.message.contains(message) == true, "\(String(describing: r.error))")
}

@Test func nulBytesAndLongLinesAreRefused() {
    var bytes = Array("sbtest veth br0 2\n".utf8)
    bytes.append(0)
    bytes += Array("sbtest veth br0 2\n".utf8)
    #expect(parseBytes(bytes).error?.message.contains("NUL") == true)
    let long = "sbtest veth br0 1 #" + String(repeating: "x", count: Int(SBXNET_LINE_MAX)) + "\n"
    #expect(parse(long).error?.message.contains("longer than") == true)
    let huge = [UInt8](repeating: UInt8(ascii: "#"), count: Int(SBXNET_POLICY_MAX) + 1)
    #expect(parseBytes(huge).error?.message.contains("larger than") == true)
}

@Test func tooManyBridgesIsAnError() {
    let text = (0..<3).map { "sbtest veth br\($0) 1\n" }.joined()
    let r = parse(text, maxGrants: 2)
    #expect(r.error?.line == 3)
}

@Test func crlfAndTabsAreWhitespace() {
    let r = parse("sbtest\tveth\tbr0\t2\r\n")
    #expect(r.error == nil)
    #expect(r.grants == ["br0": 2])
}

func strdupC(_ s: String) -> UnsafeMutablePointer<CChar> { s.withCString { strdup($0)! } }

/// A fixed-size C char array (imported as a tuple) as a String.
func cString<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}
