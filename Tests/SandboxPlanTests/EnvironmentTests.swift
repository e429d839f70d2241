#if canImport(Glibc)
import Glibc
#endif
import SandboxPlan
import Testing

/// Environment.current splits each entry at its first "=", as getenv(3) reads it.
@Test func theEnvironmentIsReadAsGetenvReadsIt() {
    setenv("SANDBOX_TEST_EQ", "a=b==c", 1)
    setenv("SANDBOX_TEST_EMPTY", "", 1)
    setenv("SANDBOX_TEST_UTF8", "é😀", 1)
    let env = Environment.current
    #expect(env["SANDBOX_TEST_EQ"] == "a=b==c")
    #expect(env["SANDBOX_TEST_EMPTY"] == "")
    #expect(env["SANDBOX_TEST_UTF8"] == "é😀")
    var count = 0
    while environ[count] != nil { count += 1 }
    #expect(env.count <= count)
    for (key, value) in env { #expect(getenv(key).map { String(cString: $0) } == value, "\(key)") }
}
