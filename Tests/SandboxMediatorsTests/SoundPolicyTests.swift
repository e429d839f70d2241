import SandboxMediators
import Testing

/// A policy past AUTH (the server answered it).
func authenticated(microphone: Bool = false) -> SoundPolicy {
    var p = SoundPolicy(microphone: microphone)
    _ = p.fromClient(command(.auth, tag: 0) { $0.u32(35); $0.arbitrary([UInt8](repeating: 0, count: 256)) })
    _ = p.fromServer(command(.reply, tag: 0) { $0.u32(35) })
    return p
}

@Suite struct SoundPolicyTests {
    @Test func authLosesItsSharedMemoryAndMemfdBits() {
        var p = SoundPolicy(microphone: false)
        let auth = command(.auth, tag: 0) { $0.u32(35 | 0x8000_0000 | 0x4000_0000); $0.arbitrary([UInt8](repeating: 7, count: 256)) }
        guard case .forward(let sent) = p.fromClient(auth) else { Issue.record("AUTH not forwarded"); return }
        #expect(PulseWire.leadingU32s(sent.payload, count: 1) == [35])
        #expect(sent.payload.count == auth.payload.count)
        #expect(sent.payload[15...] == auth.payload[15...])   // the cookie is untouched
        // The server's answer also loses the bits, so the client never turns SHM on.
        let reply = p.fromServer(command(.reply, tag: 0) { $0.u32(35 | 0x8000_0000) })
        #expect(PulseWire.leadingU32s(reply.payload, count: 1) == [35])
        #expect(p.authenticated)
    }

    @Test func refusedCommandsGetTheirOwnTagBack() {
        var p = authenticated()
        for c: PulseCommand in [.loadModule, .unloadModule, .setDefaultSink, .setDefaultSource, .killClient,
                                .setSinkVolume, .setSinkMute, .setSourceVolume, .setCardProfile, .setSinkPort,
                                .suspendSink, .suspendSource, .createUploadStream, .removeSample, .extensionCommand,
                                .exit, .getModuleInfoList, .getClientInfoList, .getSinkInputInfoList,
                                .registerMemfdShmid, .sendObjectMessage, .setPortLatencyOffset, .reply, .error] {
            #expect(p.fromClient(command(c, tag: 99) { $0.string("x") }) == .refuse(tag: 99, error: 1), "\(c)")
        }
        // A command number PulseAudio does not know yet.
        var w = TagWriter(); w.u32(500); w.u32(12)
        #expect(p.fromClient(.control(w.bytes)) == .refuse(tag: 12, error: 1))
    }

    @Test func playbackAndTheDevicePickerPass() {
        var p = authenticated()
        for c: PulseCommand in [.setClientName, .createPlaybackStream, .getServerInfo, .getSinkInfoList, .getSourceInfoList,
                                .getCardInfoList, .subscribe, .lookupSink, .playSample, .drainPlaybackStream,
                                .corkPlaybackStream, .flushPlaybackStream, .setPlaybackStreamName,
                                .updatePlaybackStreamProplist, .updateClientProplist, .deletePlaybackStream] {
            let packet = command(c, tag: 5) { $0.u32(0) }
            #expect(p.fromClient(packet) == .forward(packet), "\(c)")
        }
    }

    @Test func recordingNeedsTheMicrophone() {
        let create = command(.createRecordStream, tag: 3) { $0.string("mic") }
        var off = authenticated(microphone: false)
        #expect(off.fromClient(create) == .refuse(tag: 3, error: 1))
        var on = authenticated(microphone: true)
        #expect(on.fromClient(create) == .forward(create))
        _ = on.fromServer(command(.reply, tag: 3) { $0.u32(1); $0.u32(40) })
        #expect(on.ownSourceOutputs == [40])
        #expect(on.fromClient(command(.setSourceOutputVolume, tag: 4) { $0.u32(40) }) != .refuse(tag: 4, error: 1))
        #expect(on.fromClient(command(.setSourceOutputVolume, tag: 5) { $0.u32(41) }) == .refuse(tag: 5, error: 1))
    }

    @Test func onlyItsOwnSinkInputsByIndex() {
        var p = authenticated()
        _ = p.fromClient(command(.createPlaybackStream, tag: 10) { $0.string("music") })
        // The server's reply: channel 2, sink input 17, missing bytes.
        _ = p.fromServer(command(.reply, tag: 10) { $0.u32(2); $0.u32(17); $0.u32(4096) })
        #expect(p.playback == [2: 17])
        for c: PulseCommand in [.setSinkInputVolume, .setSinkInputMute, .getSinkInputInfo, .moveSinkInput, .killSinkInput] {
            let own = command(c, tag: 11) { $0.u32(17) }
            #expect(p.fromClient(own) == .forward(own), "\(c) own")
            #expect(p.fromClient(command(c, tag: 12) { $0.u32(18) }) == .refuse(tag: 12, error: 1), "\(c) other")
            #expect(p.fromClient(command(c, tag: 13)) == .refuse(tag: 13, error: 1), "\(c) no index")
        }
        // Deleting the stream gives the index up (pipewire-pulse reuses ids).
        _ = p.fromClient(command(.deletePlaybackStream, tag: 14) { $0.u32(2) })
        #expect(p.fromClient(command(.setSinkInputVolume, tag: 15) { $0.u32(17) }) == .refuse(tag: 15, error: 1))
    }

    @Test func aFailedCreateOwnsNothingAndAKilledStreamIsForgotten() {
        var p = authenticated()
        _ = p.fromClient(command(.createPlaybackStream, tag: 20))
        _ = p.fromServer(command(.error, tag: 20) { $0.u32(3) })
        _ = p.fromServer(command(.reply, tag: 20) { $0.u32(0); $0.u32(5) })   // a stale reply must not count
        #expect(p.playback.isEmpty)
        _ = p.fromClient(command(.createPlaybackStream, tag: 21))
        _ = p.fromServer(command(.reply, tag: 21) { $0.u32(4); $0.u32(9) })
        _ = p.fromServer(command(.playbackStreamKilled, tag: 0xFFFF_FFFF) { $0.u32(4) })
        #expect(p.playback.isEmpty)
    }

    @Test func itsOwnClientInfoOnly() {
        var p = authenticated()
        _ = p.fromClient(command(.setClientName, tag: 30) { $0.proplist([]) })
        _ = p.fromServer(command(.reply, tag: 30) { $0.u32(12) })
        #expect(p.clientIndex == 12)
        let own = command(.getClientInfo, tag: 31) { $0.u32(12) }
        #expect(p.fromClient(own) == .forward(own))
        #expect(p.fromClient(command(.getClientInfo, tag: 32) { $0.u32(11) }) == .refuse(tag: 32, error: 1))
    }

    @Test func audioOnlyOnItsOwnPlaybackChannels() {
        var p = authenticated()
        _ = p.fromClient(command(.createPlaybackStream, tag: 40))
        _ = p.fromServer(command(.reply, tag: 40) { $0.u32(3); $0.u32(8) })
        let mine = PulsePacket(channel: 3, flags: 0, payload: [1, 2, 3, 4])
        #expect(p.fromClient(mine) == .forward(mine))
        #expect(p.fromClient(PulsePacket(channel: 4, payload: [1, 2])) == .drop)
    }

    @Test func sharedMemoryFramesAndCommandsBeforeAuthEndTheConnection() {
        var p = authenticated()
        _ = p.fromClient(command(.createPlaybackStream, tag: 50))
        _ = p.fromServer(command(.reply, tag: 50) { $0.u32(0); $0.u32(1) })
        for flags: UInt32 in [0x8000_0000, 0x4000_0000, 0xC000_0000, 0x2000_0000, 0x0080_0000, 0x0000_0100] {
            guard case .disconnect = p.fromClient(PulsePacket(channel: 0, offsetHi: 1, flags: flags, payload: [])) else {
                Issue.record("flags \(flags) not refused"); continue
            }
        }
        var fresh = SoundPolicy(microphone: false)
        guard case .disconnect = fresh.fromClient(command(.loadModule, tag: 1)) else { Issue.record("command before AUTH"); return }
        guard case .disconnect = p.fromClient(command(.auth, tag: 2) { $0.u32(35) }) else { Issue.record("second AUTH"); return }
        guard case .disconnect = p.fromClient(.control([0x74, 0x61, 0])) else { Issue.record("no header"); return }
    }
}
