// toml-test's decoder interface: TOML on stdin; tagged JSON on stdout and exit 0,
// or the error on stderr and exit 1. Driven by Tests/TOML/run.sh.
#if canImport(Glibc)
import Glibc
#endif
import SandboxCore

var input: [UInt8] = []
var buffer = [UInt8](repeating: 0, count: 65536)
while true {
    let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { break }
    input += buffer[0..<n]
}
switch TOMLTaggedJSON.decode(input) {
case .success(let json):
    print(json, terminator: "")
case .failure(let error):
    var text = Array("\(error)\n".utf8)
    _ = text.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}
