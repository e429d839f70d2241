import Testing
@testable import SandboxMediators
import SandboxTestSupport

/// Expected bytes are written out by hand from the protocol's encoding tables,
/// not produced by the encoder under test.
@Suite struct X11SetupRequestTests {
    static let cookie16: [UInt8] = Array(0xA0...0xAF)
    static let name = Array("MIT-MAGIC-COOKIE-1".utf8)   // 18 bytes, padded to 20

    /// A set-up as libxcb sends it on a little-endian machine: 'l', 11.0, MIT cookie.
    static let lsbWithCookie: [UInt8] =
        [0x6C, 0, 11, 0, 0, 0, 18, 0, 16, 0, 0, 0] + name + [0, 0] + cookie16
    /// The same from a big-endian client: 'B', lengths high byte first.
    static let msbWithCookie: [UInt8] =
        [0x42, 0, 0, 11, 0, 0, 0, 18, 0, 16, 0, 0] + name + [0, 0] + cookie16

    @Test func parsesBothByteOrders() {
        for (bytes, order) in [(Self.lsbWithCookie, X11ByteOrder.lsbFirst), (Self.msbWithCookie, .msbFirst)] {
            guard case .complete(let r, let length) = X11SetupRequest.parse(bytes) else {
                Issue.record("not parsed: \(order)"); continue
            }
            #expect(length == 48)
            #expect(r.byteOrder == order)
            #expect(r.majorVersion == 11 && r.minorVersion == 0)
            #expect(r.authorizationName == Self.name)
            #expect(r.authorizationData == Self.cookie16)
        }
    }

    @Test func rewritesAnyAuthorizationToTheCookieInTheClientsByteOrder() {
        let untrusted: [UInt8] = Array(0x10...0x1F)
        // No authorization at all (what a client relying on xhost sends), little-endian.
        let bare: [UInt8] = [0x6C, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        guard case .complete(let r1, 12) = X11SetupRequest.parse(bare) else { Issue.record("bare set-up"); return }
        #expect(r1.presenting(cookie: untrusted).encoded == [0x6C, 0, 11, 0, 0, 0, 18, 0, 16, 0, 0, 0] + Self.name + [0, 0] + untrusted)
        // A stolen trusted cookie, big-endian: replaced, lengths stay big-endian.
        guard case .complete(let r2, _) = X11SetupRequest.parse(Self.msbWithCookie) else { Issue.record("msb set-up"); return }
        #expect(r2.presenting(cookie: untrusted).encoded == [0x42, 0, 0, 11, 0, 0, 0, 18, 0, 16, 0, 0] + Self.name + [0, 0] + untrusted)
        // Another protocol with odd lengths (5-byte name, 3-byte data) and version 11.7.
        let odd: [UInt8] = [0x42, 0, 0, 11, 0, 7, 0, 5, 0, 3, 0, 0] + Array("XDM-A".utf8) + [0, 0, 0] + [1, 2, 3, 0]
        guard case .complete(let r3, 24) = X11SetupRequest.parse(odd) else { Issue.record("odd set-up"); return }
        #expect(r3.authorizationName == Array("XDM-A".utf8) && r3.authorizationData == [1, 2, 3])
        let rewritten = r3.presenting(cookie: untrusted).encoded
        #expect(rewritten[0..<6] == [0x42, 0, 0, 11, 0, 7])
        #expect(rewritten.count == 48)
    }

    @Test func keepsWhatFollowsTheSetUp() {
        let pipelined = Self.lsbWithCookie + [43, 0, 1, 0]   // a GetInputFocus already sent
        guard case .complete(_, let length) = X11SetupRequest.parse(pipelined) else { Issue.record("not parsed"); return }
        #expect(Array(pipelined[length...]) == [43, 0, 1, 0])
    }

    @Test func everyTruncationIsIncomplete() {
        for bytes in [Self.lsbWithCookie, Self.msbWithCookie] {
            for n in 0..<bytes.count {
                #expect(X11SetupRequest.parse(Array(bytes[0..<n])) == .incomplete, "prefix of \(n) bytes")
            }
        }
    }

    @Test(arguments: [0x00, 0x41, 0x62, 0x4C, 0xFF])
    func badByteOrderIsRejectedAtTheFirstByte(first: Int) {
        guard case .invalid(let why) = X11SetupRequest.parse([UInt8(first)]) else {
            Issue.record("accepted byte-order byte \(first)"); return
        }
        #expect(why.contains("byte-order"))
    }

    @Test func oversizedAnnouncementsAreRejectedBeforeTheBodyArrives() {
        // 65535-byte name and data: rejected with only the 12-byte header read.
        for header: [UInt8] in [[0x6C, 0, 11, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], [0x42, 0, 0, 11, 0, 0, 0x04, 0x00, 0, 0, 0, 0]] {
            guard case .invalid(let why) = X11SetupRequest.parse(header) else { Issue.record("accepted \(header)"); continue }
            #expect(why.contains("exceeds"))
        }
        // Exactly at the limit is fine: 12 + 12 + 1000.
        let atLimit: [UInt8] = [0x6C, 0, 11, 0, 0, 0, 12, 0, 0xE8, 0x03, 0, 0]
        #expect(X11SetupRequest.parse(atLimit) == .incomplete)
        #expect(X11SetupRequest.parse(atLimit + [UInt8](repeating: 7, count: 1012)) != .incomplete)
    }

    /// Mutated and truncated set-ups never crash the parser, and whatever it
    /// accepts re-encodes to the same length it consumed and the same fields.
    @Test func randomizedMutationsNeverCrashAndStayConsistent() {
        var rng = SplitMix(seed: 0x5EED_0F_11)
        let seeds = [Self.lsbWithCookie, Self.msbWithCookie, [0x6C, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]]
        var accepted = 0, rejected = 0
        for round in 0..<50_000 {
            var b = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                switch rng.next() % 5 {
                case 0: if !b.isEmpty { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                case 1: b = Array(b.prefix(Int(rng.next() % UInt64(b.count + 1))))
                case 2: b += (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                case 3: if b.count > 9 { b[6 + Int(rng.next() % 4)] = UInt8(truncatingIfNeeded: rng.next()) }   // the lengths
                default: b = (0..<Int(rng.next() % 80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            switch X11SetupRequest.parse(b) {
            case .complete(let r, let length):
                accepted += 1
                #expect(length <= b.count && length <= X11SetupRequest.maximumLength)
                let again = r.encoded
                #expect(again.count == length)
                #expect(X11SetupRequest.parse(again) == .complete(r, length: length))
                #expect(r.presenting(cookie: Array(0..<16)).encoded.count == 48)
            case .invalid:
                rejected += 1
            case .incomplete:
                #expect(b.count < X11SetupRequest.maximumLength)
            }
        }
        #expect(accepted > 1000 && rejected > 1000)
    }
}


@Suite struct X11RequestTests {
    static let name = Array("MIT-MAGIC-COOKIE-1".utf8)

    @Test func securityGenerateAuthorizationLittleEndian() {
        // major 0x85, minor 1, length 11 words; name 18, data 0; mask = timeout|trust|events (0x0B);
        // name padded to 20; values in bit order: timeout 10, trust 1 (untrusted), event mask 1 (revoked).
        let expected: [UInt8] = [0x85, 1, 11, 0, 18, 0, 0, 0, 0x0B, 0, 0, 0] + Self.name + [0, 0]
            + [10, 0, 0, 0] + [1, 0, 0, 0] + [1, 0, 0, 0]
        let got = X11Request.securityGenerateAuthorization(major: 0x85, timeout: 10, trustLevel: 1, eventMask: 1, order: .lsbFirst)
        #expect(got == expected)
        #expect(got.count == 44)
    }

    @Test func securityGenerateAuthorizationBigEndian() {
        let expected: [UInt8] = [0x85, 1, 0, 11, 0, 18, 0, 0, 0, 0, 0, 0x0B] + Self.name + [0, 0]
            + [0, 0, 0, 10] + [0, 0, 0, 1] + [0, 0, 0, 1]
        #expect(X11Request.securityGenerateAuthorization(major: 0x85, timeout: 10, trustLevel: 1, eventMask: 1, order: .msbFirst) == expected)
    }

    @Test func securityRevokeAuthorization() {
        #expect(X11Request.securityRevokeAuthorization(major: 0x85, id: 0x0040_0001, order: .lsbFirst) == [0x85, 2, 2, 0, 0x01, 0, 0x40, 0])
        #expect(X11Request.securityRevokeAuthorization(major: 0x85, id: 0x0040_0001, order: .msbFirst) == [0x85, 2, 0, 2, 0, 0x40, 0, 0x01])
    }

    @Test func queryExtensionAndGetInputFocus() {
        // opcode 98, length 2 + 8/4 = 4 words, name length 8, "SECURITY" (no padding needed).
        #expect(X11Request.queryExtension("SECURITY", order: .lsbFirst) == [98, 0, 4, 0, 8, 0, 0, 0] + Array("SECURITY".utf8))
        #expect(X11Request.queryExtension("XTEST", order: .msbFirst) == [98, 0, 0, 4, 0, 5, 0, 0] + Array("XTEST".utf8) + [0, 0, 0])
        #expect(X11Request.getInputFocus(order: .msbFirst) == [43, 0, 0, 1])
    }

    @Test func generateAuthorizationReplyGivesIdAndCookie() {
        // Reply, seq 2, length 4 words (16 bytes of cookie), auth id 0x00400001, data length 16.
        let cookie: [UInt8] = Array(0xC0...0xCF)
        let lsb: [UInt8] = [1, 0, 2, 0, 4, 0, 0, 0, 0x01, 0, 0x40, 0, 16, 0] + [UInt8](repeating: 0, count: 18) + cookie
        let msb: [UInt8] = [1, 0, 0, 2, 0, 0, 0, 4, 0, 0x40, 0, 0x01, 0, 16] + [UInt8](repeating: 0, count: 18) + cookie
        for (bytes, order) in [(lsb, X11ByteOrder.lsbFirst), (msb, .msbFirst)] {
            guard let (message, length) = X11Message.parse(bytes + [9, 9], order: order),
                  case .reply(let seq, let reply) = message else { Issue.record("no reply parsed"); continue }
            #expect(seq == 2 && length == 48)
            #expect(X11GeneratedAuthorization(reply: reply, order: order) == X11GeneratedAuthorization(id: 0x0040_0001, cookie: cookie))
        }
        // A reply whose announced cookie is longer than what arrived is not complete.
        #expect(X11Message.parse(Array(lsb[0..<40]), order: .lsbFirst) == nil)
    }

    @Test func errorsEventsAndExtensionInfo() {
        var error = [UInt8](repeating: 0, count: 32)
        error[1] = 10; error[2] = 3   // BadAccess for request 3
        #expect(X11Message.parse(error, order: .lsbFirst)?.0 == .error(code: 10, sequence: 3))
        var event = [UInt8](repeating: 0, count: 32)
        event[0] = 0x80 | 86          // a SendEvent-flagged event 86
        guard case .event(let code, _)? = X11Message.parse(event, order: .lsbFirst)?.0 else { Issue.record("no event"); return }
        #expect(code == 86)
        var query = [UInt8](repeating: 0, count: 32)
        query[0] = 1; query[8] = 1; query[9] = 0x85; query[10] = 86
        #expect(X11ExtensionInfo(reply: query) == X11ExtensionInfo(present: true, majorOpcode: 0x85, firstEvent: 86))
        query[8] = 0
        #expect(X11ExtensionInfo(reply: query)?.present == false)
        #expect(X11Message.parse(Array(error[0..<31]), order: .lsbFirst) == nil)
    }

    @Test func serverSetUpAnswerPrefix() {
        // Failed, 21-byte reason, 11.0, 6 words follow.
        let failed = X11SetupReplyPrefix([0, 21, 11, 0, 0, 0, 6, 0], order: .lsbFirst)
        #expect(failed == X11SetupReplyPrefix(status: .failed, reasonLength: 21, additionalLength: 24))
        #expect(X11SetupReplyPrefix([1, 0, 0, 11, 0, 0, 0x01, 0x02], order: .msbFirst)?.additionalLength == 0x0102 * 4)
        #expect(X11SetupReplyPrefix([7, 0, 0, 11, 0, 0, 0, 0], order: .msbFirst) == nil)
    }
}

@Suite struct XauthorityFormatTests {
    /// One FamilyLocal entry for host "box", display 3, as xauth writes it.
    static let oneEntry: [UInt8] = [0x01, 0x00, 0, 3] + Array("box".utf8) + [0, 1] + Array("3".utf8)
        + [0, 18] + Array("MIT-MAGIC-COOKIE-1".utf8) + [0, 4] + [0xDE, 0xAD, 0xBE, 0xEF]

    @Test func parsesWhatXauthWritesAndEncodesItBack() {
        let entries = Xauthority.parse(Self.oneEntry)
        #expect(entries == [XauthEntry(family: XauthEntry.familyLocal, address: Array("box".utf8), number: "3",
                                       name: "MIT-MAGIC-COOKIE-1", data: [0xDE, 0xAD, 0xBE, 0xEF])])
        #expect(Xauthority.encode(entries) == Self.oneEntry)
        #expect(XauthSelection.cookie(from: entries, display: 3, hostname: "box") == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(XauthSelection.cookie(from: entries, display: 4, hostname: "box") == nil)
        #expect(XauthSelection.cookie(from: entries, display: 3, hostname: "other") == nil)
    }

    @Test func truncatedEntriesAreDroppedNotCrashed() {
        let two = Self.oneEntry + Self.oneEntry
        for n in 0...two.count {
            let parsed = Xauthority.parse(Array(two[0..<n]))
            #expect(parsed.count == (n >= two.count ? 2 : n >= Self.oneEntry.count ? 1 : 0))
        }
        var rng = SplitMix(seed: 7)
        for _ in 0..<5_000 {
            let junk = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = Xauthority.parse(junk)
        }
    }
}
