// What the supervisor tells the launcher that started it, on the status pipe
// (fd 4): notices, then ready with the init's pid, or a failure with its parts.
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's typed reports to the launcher that started it.
public enum StatusRecord: Sendable, Equatable {
    case notice(String)
    case ready(pid: Int32)
    case failure(SandboxError)

    /// type u8 | payload length u32 | payload (PlanCodec primitives). A failure
    /// (type 4) keeps its parts: what, errno (0: none), cause, hint (not the code:
    /// a start's failures are all `.failed`; a session's reach the launcher from
    /// the init); type 3 was the rendered text of a build before that, still read.
    public var encoded: [UInt8] {
        var p = PlanCodec.Writer()
        let type: UInt8
        switch self {
        case .notice(let text): type = 1; p.string(text)
        case .ready(let pid): type = 2; p.u32(UInt32(bitPattern: pid))
        case .failure(let e):
            type = 4
            p.string(e.what)
            p.u32(UInt32(bitPattern: e.errno ?? 0))
            p.optionalString(e.cause)
            p.optionalString(e.hint)
        }
        var w = PlanCodec.Writer()
        w.u8(type)
        w.blob(p.out)
        return w.out
    }

    /// Every complete record in `bytes`; a damaged stream ends the list with a failure.
    public static func decodeAll(_ bytes: [UInt8]) -> [StatusRecord] {
        var r = PlanCodec.Reader(bytes: bytes)
        var out: [StatusRecord] = []
        while r.offset < bytes.count {
            do throws(PlanDecodingError) {
                let type = try r.u8()
                var p = PlanCodec.Reader(bytes: try r.blob())
                switch type {
                case 1: out.append(.notice(try p.string()))
                case 2: out.append(.ready(pid: Int32(bitPattern: try p.u32())))
                case 3: out.append(.failure(SandboxError(try p.string(), hint: try p.optionalString())))
                case 4:
                    let what = try p.string()
                    let errno = Int32(bitPattern: try p.u32())
                    out.append(.failure(SandboxError(what, errno: errno == 0 ? nil : errno,
                                                     cause: try p.optionalString(), hint: try p.optionalString())))
                default: throw p.error("unknown status record \(type)")
                }
            } catch {
                out.append(.failure(SandboxError("the supervisor sent a damaged status report (\(error))")))
                break
            }
        }
        return out
    }
}

struct StatusChannel {
    let fd: Int32
    func send(_ record: StatusRecord) { _ = try? writeAll(fd, record.encoded) }
    func close() { _ = Glibc.close(fd) }
}
