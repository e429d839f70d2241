import Testing
@testable import SandboxDesktop

@Test func moduleLoads() {
    #expect(Bool(true))
}
