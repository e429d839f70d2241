import Testing
@testable import SandboxCore

@Test func moduleLoads() {
    #expect(Bool(true))
}
