import Testing
@testable import SandboxRuntime

@Test func moduleLoads() {
    #expect(Bool(true))
}
