// The system layer (OwnedFD, the EINTR retry, errnoText, unix-socket addresses,
// wait statuses) lives in SandboxSystem, below every module; whoever sees the
// plan sees it too.
@_exported import SandboxSystem
