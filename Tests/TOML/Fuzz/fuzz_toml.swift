// libFuzzer target for the TOML parser (make fuzz-toml): every input parses or
// gives a syntax error with a line, and what parses survives the emitter's round
// trip with the same values. Built with -sanitize=fuzzer,address against a
// SandboxCore compiled with the same flags (coverage-guided through the parser).
@testable import SandboxCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch TOMLTree.parse(bytes: bytes, file: "fuzz.toml") {
    case .failure(let e):
        precondition(e.kind == .syntax && e.location.line != nil, "an error without a line: \(e)")
    case .success(let tree):
        let text = TOMLEmitter.emit(document: tree)
        guard case .success(let again) = TOMLTree.parse(source: text, file: "again.toml") else {
            preconditionFailure("the emitted document does not parse:\n\(text)")
        }
        precondition(again.sameValue(as: tree), "the round trip changed a value:\n\(text)")
    }
    return 0
}
