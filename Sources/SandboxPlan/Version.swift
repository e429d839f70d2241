public enum SandboxVersion {
    public static let string = "0.1.0"
}
