// What one app connection may ask of the host's sound server. Pure: the proxy
// hands every packet to it and does what it says, so each decision is tested
// without a socket.
//
// A whitelist: a command not named here is refused. Commands addressed by a
// stream's channel need no check of ours (the server resolves the channel in
// the connection's own streams); commands addressed by a sink-input or
// source-output index are allowed only for the indices the server gave this
// connection in its replies to CREATE_PLAYBACK_STREAM / CREATE_RECORD_STREAM.

/// What to do with a packet.
public enum SoundVerdict: Equatable, Sendable {
    /// Pass it on (possibly rewritten).
    case forward(PulsePacket)
    /// Answer the client with PA_COMMAND_ERROR(tag, error) instead; nothing goes upstream.
    case refuse(tag: UInt32, error: UInt32)
    /// Drop it silently (audio for a channel that is not this client's playback stream).
    case drop
    /// The client broke the protocol in a way that cannot be answered: close the connection.
    case disconnect(String)
}

public struct SoundPolicy: Sendable {
    public let microphone: Bool
    /// Tags of our CREATE_PLAYBACK/RECORD_STREAM requests awaiting their reply.
    private var pendingCreate: [UInt32: Direction] = [:]
    /// Tag of the SET_CLIENT_NAME awaiting its reply (which carries our client index).
    private var pendingClientName: Set<UInt32> = []
    private var pendingAuth: Set<UInt32> = []
    private var authSent = false
    /// Streams the server created for this connection: channel → sink-input / source-output index.
    public private(set) var playback: [UInt32: UInt32] = [:]
    public private(set) var record: [UInt32: UInt32] = [:]
    /// This connection's client index on the server (from the SET_CLIENT_NAME reply).
    public private(set) var clientIndex: UInt32?
    public private(set) var authenticated = false

    enum Direction: Sendable { case playback, record }

    public init(microphone: Bool) { self.microphone = microphone }

    public var ownSinkInputs: Set<UInt32> { Set(playback.values) }
    public var ownSourceOutputs: Set<UInt32> { Set(record.values) }

    /// A packet from the app.
    public mutating func fromClient(_ packet: PulsePacket) -> SoundVerdict {
        // Shared-memory frames name a block in a pool instead of carrying bytes;
        // the mediator turned SHM and memfd off, so only a hostile client sends them.
        if packet.flags & ~PulsePacket.seekMask != 0 {
            return .disconnect("a frame with shared-memory flags \(hex(packet.flags))")
        }
        guard packet.isControl else {
            // Audio: only for our own playback streams (an upload stream is never created).
            return playback[packet.channel] != nil ? .forward(packet) : .drop
        }
        guard let (command, tag) = PulseWire.header(packet.payload) else {
            return .disconnect("a control packet that does not start with a command and a tag")
        }
        // libpulse waits for the AUTH reply; the server refuses anything before
        // it anyway, so only a command before AUTH was even sent is a violation.
        guard authSent || command == PulseCommand.auth.rawValue else {
            return .disconnect("command \(command) before AUTH")
        }
        guard let cmd = PulseCommand(rawValue: command) else { return .refuse(tag: tag, error: PulseWire.errAccess) }
        let refuse = SoundVerdict.refuse(tag: tag, error: PulseWire.errAccess)
        /// The first argument (an index), when the command is about an index-addressed object.
        func index() -> UInt32? { PulseWire.leadingU32s(packet.payload, count: 1).first }

        switch cmd {
        case .auth:
            guard !authSent else { return .disconnect("a second AUTH") }
            var p = packet
            guard PulseWire.clearSharedMemoryFlags(&p.payload) else { return .disconnect("an AUTH without a version") }
            authSent = true
            pendingAuth.insert(tag)
            return .forward(p)

        case .createPlaybackStream:
            pendingCreate[tag] = .playback
            return .forward(packet)
        case .createRecordStream:
            guard microphone else { return refuse }
            pendingCreate[tag] = .record
            return .forward(packet)
        case .deletePlaybackStream:
            if let ch = index() { playback[ch] = nil }
            return .forward(packet)
        case .deleteRecordStream:
            if let ch = index() { record[ch] = nil }
            return .forward(packet)

        case .setClientName:
            pendingClientName.insert(tag)
            return .forward(packet)

        // By channel: the server looks the channel up among this connection's streams.
        case .drainPlaybackStream, .getPlaybackLatency, .corkPlaybackStream, .flushPlaybackStream,
             .triggerPlaybackStream, .prebufPlaybackStream, .setPlaybackStreamName,
             .setPlaybackStreamBufferAttr, .updatePlaybackStreamSampleRate,
             .updatePlaybackStreamProplist, .removePlaybackStreamProplist,
             .getRecordLatency, .corkRecordStream, .flushRecordStream, .setRecordStreamName,
             .setRecordStreamBufferAttr, .updateRecordStreamSampleRate,
             .updateRecordStreamProplist, .removeRecordStreamProplist,
             // The connection's own client.
             .updateClientProplist, .removeClientProplist,
             // Reading the server's state, for a device picker.
             .stat, .lookupSink, .lookupSource, .getServerInfo, .getSinkInfo, .getSinkInfoList,
             .getSourceInfo, .getSourceInfoList, .getCardInfo, .getCardInfoList,
             .getSampleInfo, .getSampleInfoList, .subscribe,
             // Playing a sample already in the server's cache (uploading one is refused).
             .playSample:
            return .forward(packet)

        // By index: only this connection's own streams.
        case .getSinkInputInfo, .setSinkInputVolume, .setSinkInputMute, .killSinkInput, .moveSinkInput:
            guard let i = index(), ownSinkInputs.contains(i) else { return refuse }
            return .forward(packet)
        case .getSourceOutputInfo, .setSourceOutputVolume, .setSourceOutputMute, .killSourceOutput, .moveSourceOutput:
            guard let i = index(), ownSourceOutputs.contains(i) else { return refuse }
            return .forward(packet)
        case .getClientInfo:
            guard let i = index(), let own = clientIndex, i == own else { return refuse }
            return .forward(packet)

        // Everything else: modules, defaults, device volume/ports/profiles, other
        // clients and their streams, suspend, the sample cache, extensions, exit,
        // shared memory, and server→client commands a client has no business sending.
        default:
            return refuse
        }
    }

    /// A packet from the server: notes the replies that tell us which streams
    /// and client are ours; clears the SHM/memfd bits of the AUTH reply.
    public mutating func fromServer(_ packet: PulsePacket) -> PulsePacket {
        guard packet.isControl, let (command, tag) = PulseWire.header(packet.payload) else { return packet }
        switch PulseCommand(rawValue: command) {
        case .reply?:
            if pendingAuth.remove(tag) != nil {
                authenticated = true
                var p = packet
                PulseWire.clearSharedMemoryFlags(&p.payload)
                return p
            }
            if let direction = pendingCreate.removeValue(forKey: tag) {
                let v = PulseWire.leadingU32s(packet.payload, count: 2)
                if v.count == 2 {
                    switch direction {
                    case .playback: playback[v[0]] = v[1]
                    case .record: record[v[0]] = v[1]
                    }
                }
            } else if pendingClientName.remove(tag) != nil {
                clientIndex = PulseWire.leadingU32s(packet.payload, count: 1).first
            }
        case .error?:
            pendingAuth.remove(tag)
            pendingCreate[tag] = nil
            pendingClientName.remove(tag)
        case .playbackStreamKilled?:
            // Server-initiated: the "tag" is 0xFFFFFFFF and the channel follows.
            if let ch = PulseWire.leadingU32s(packet.payload, count: 1).first { playback[ch] = nil }
        case .recordStreamKilled?:
            if let ch = PulseWire.leadingU32s(packet.payload, count: 1).first { record[ch] = nil }
        default:
            break
        }
        return packet
    }
}

func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
