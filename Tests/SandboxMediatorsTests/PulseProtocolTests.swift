import SandboxMediators
import Testing
import SandboxTestSupport

/// A control packet: command, tag, then the given values.
func command(_ c: PulseCommand, tag: UInt32, _ build: (inout TagWriter) -> Void = { _ in }) -> PulsePacket {
    var w = TagWriter()
    w.u32(c.rawValue)
    w.u32(tag)
    build(&w)
    return .control(w.bytes)
}


@Suite struct PulseFramingTests {
    @Test func theErrorReplyIsWhatPulseAudioSends() {
        // pa_pstream_send_error: tagstruct (ERROR, tag, PA_ERR_ACCESS) on the control channel.
        let bytes = PulseWire.errorReply(tag: 0x0102_0304).bytes
        #expect(bytes == [0, 0, 0, 15, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                          0x4C, 0, 0, 0, 0, 0x4C, 1, 2, 3, 4, 0x4C, 0, 0, 0, 1])
    }

    @Test func packetsSplitAnywhereComeOutWhole() throws {
        let a = command(.getServerInfo, tag: 7).bytes
        let b = PulsePacket(channel: 3, offsetLo: 9, flags: 1, payload: Array(repeating: 0xAB, count: 1000)).bytes
        let stream = a + b + a
        for cut in [1, 3, 19, 20, 21, 500] {
            var f = PulseFramer()
            var out: [PulsePacket] = []
            var i = 0
            while i < stream.count {
                f.append(stream[i..<min(i + cut, stream.count)])
                i += cut
                while let p = try f.next() { out.append(p) }
            }
            #expect(out.map(\.bytes) == [a, b, a], "cut \(cut)")
            #expect(f.pending == 0)
        }
    }

    @Test func anOversizedDescriptorIsRefusedBeforeItsPayloadArrives() {
        var f = PulseFramer()
        f.append([0x01, 0x00, 0x00, 0x01] + [UInt8](repeating: 0xFF, count: 4) + [UInt8](repeating: 0, count: 12))
        #expect(throws: PulseFramer.Failure.oversized(0x0100_0001)) { try f.next() }
        var g = PulseFramer()
        g.append([0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16))
        #expect(throws: PulseFramer.Failure.self) { try g.next() }
    }

    @Test func anEmptyPayloadIsAPacket() throws {
        var f = PulseFramer()
        f.append(PulsePacket(channel: 1, payload: []).bytes)
        #expect(try f.next() == PulsePacket(channel: 1, payload: []))
        #expect(try f.next() == nil)
    }
}

@Suite struct TagstructTests {
    @Test func everyTypeRoundTrips() throws {
        var w = TagWriter()
        w.u32(42)
        w.u8(7)
        w.bool(true)
        w.bool(false)
        w.string("héllo")
        w.string(nil)
        w.arbitrary([1, 2, 3])
        w.cvolume([65536, 32768])
        w.proplist([("application.name", Array("x\0".utf8))])
        // Values TagWriter has no helper for, as libpulse writes them.
        let extra: [UInt8] = [0x61, 3, 2, 0, 0, 0xAC, 0x44,       // 'a' s16le, 2 ch, 44100
                              0x6D, 2, 1, 2,                       // 'm' 2 positions
                              0x55, 0, 0, 0, 0, 0, 0, 0x03, 0xE8,  // 'U' 1000 µs
                              0x54, 0, 0, 0, 1, 0, 0, 0, 2,        // 'T'
                              0x52, 0, 0, 0, 1, 0, 0, 0, 0,        // 'R'
                              0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // 'r' -1
                              0x56, 0, 1, 0, 0,                    // 'V'
                              0x66, 0x42, 1, 0x50, 0x4E]           // 'f' encoding 1, empty proplist
        var r = TagReader(w.bytes + extra)
        let values = try r.all()
        #expect(values == [
            .u32(42), .u8(7), .bool(true), .bool(false), .string("héllo"), .string(nil), .arbitrary([1, 2, 3]),
            .cvolume([65536, 32768]), .proplist([("application.name", Array("x\0".utf8))]),
            .sampleSpec(format: 3, channels: 2, rate: 44100), .channelMap([1, 2]), .usec(1000),
            .timeval(sec: 1, usec: 2), .u64(1 << 32), .s64(-1), .volume(65536), .formatInfo(encoding: 1, properties: []),
        ])
        #expect(r.atEnd)
    }

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        var w = TagWriter()
        w.u32(1); w.string("abc"); w.arbitrary([9, 9]); w.cvolume([1, 2, 3]); w.proplist([("k", [1])])
        let full = w.bytes
        var whole = TagReader(full)
        let values = try whole.all()
        var failures = 0
        for n in 0..<full.count {
            // A cut on a value boundary parses as the values before it; any other cut is an error.
            var r = TagReader(Array(full[0..<n]))
            if let v = try? r.all() {
                #expect(v.count < values.count && Array(values.prefix(v.count)) == v, "prefix \(n)")
            } else {
                failures += 1
            }
        }
        #expect(failures == full.count - values.count)
    }

    @Test func hostileLengthsAreRefused() {
        // An arbitrary that claims 4 GiB, a string with no terminator, an unknown tag.
        var r1 = TagReader([0x78, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2])
        #expect(throws: TagReader.Failure.self) { try r1.value() }
        var r2 = TagReader([0x74, 0x61, 0x62])
        #expect(throws: TagReader.Failure.truncated(at: 1)) { try r2.value() }
        var r3 = TagReader([0x7A])
        #expect(throws: TagReader.Failure.unknownTag(0x7A, at: 0)) { try r3.value() }
        // A proplist whose declared length disagrees with its blob.
        var r4 = TagReader([0x50, 0x74, 0x6B, 0, 0x4C, 0, 0, 0, 5, 0x78, 0, 0, 0, 1, 7, 0x4E])
        #expect(throws: TagReader.Failure.self) { try r4.value() }
        // A cvolume claiming 255 channels with none present.
        var r5 = TagReader([0x76, 0xFF, 0, 0])
        #expect(throws: TagReader.Failure.self) { try r5.value() }
    }

    @Test func headerNeedsTwoU32s() {
        #expect(PulseWire.header(command(.auth, tag: 5).payload)! == (8, 5))
        #expect(PulseWire.header([0x4C, 0, 0, 0, 8]) == nil)
        #expect(PulseWire.header([0x74, 0x61, 0]) == nil)
        #expect(PulseWire.header([]) == nil)
    }
}

@Suite struct ProtocolFuzzTests {
    /// Thousands of mutated packets through the framer, the tagstruct reader and
    /// the policy in both directions: every outcome is allowed except a crash.
    @Test func mutatedPacketsNeverCrash() throws {
        var rng = XorShift64Star(seed: 20261202)
        let seeds: [PulsePacket] = [
            command(.auth, tag: 0) { $0.u32(35 | 0xC000_0000); $0.arbitrary([UInt8](repeating: 1, count: 256)) },
            command(.setClientName, tag: 1) { $0.proplist([("application.name", Array("app\0".utf8))]) },
            command(.createPlaybackStream, tag: 2) { $0.string("s"); $0.cvolume([1, 2]); $0.bool(true) },
            command(.reply, tag: 2) { $0.u32(0); $0.u32(17); $0.u32(4096) },
            command(.setSinkInputVolume, tag: 3) { $0.u32(17); $0.cvolume([65536]) },
            command(.loadModule, tag: 4) { $0.string("module-null-sink"); $0.string("") },
            PulsePacket(channel: 0, payload: [UInt8](repeating: 0x55, count: 64)),
        ]
        var packets = 0, refused = 0, forwarded = 0
        for round in 0..<4000 {
            var stream: [UInt8] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) { stream += seeds.randomElement(using: &rng)!.bytes }
            for _ in 0..<Int.random(in: 0...8, using: &rng) where !stream.isEmpty {
                let i = Int.random(in: 0..<stream.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: stream[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: stream[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                case 2: stream.remove(at: i)
                default: stream.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            var client = PulseFramer(maxPayload: 1 << 20)
            var policy = SoundPolicy(microphone: round % 2 == 0)
            var at = 0
            while at < stream.count {
                let n = Int.random(in: 1...64, using: &rng)
                client.append(stream[at..<min(at + n, stream.count)])
                at += n
                do {
                    while let p = try client.next() {
                        packets += 1
                        var r = TagReader(p.payload)
                        _ = try? r.all()
                        switch policy.fromClient(p) {
                        case .forward: forwarded += 1
                        case .refuse: refused += 1
                        default: break
                        }
                        _ = policy.fromServer(p)
                    }
                } catch {
                    break   // an oversized descriptor ends the connection
                }
            }
        }
        // The run must have exercised the decisions, not just failed to frame.
        #expect(packets > 4000)
        #expect(forwarded > 100 && refused > 100)
    }
}
