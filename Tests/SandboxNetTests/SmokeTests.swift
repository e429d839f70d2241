import Testing
import CSandboxNet

@Test func moduleLoads() {
    #expect(sbxnet_placeholder() == 0)
}
