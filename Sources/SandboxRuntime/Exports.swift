// The supervisor's half of the runtime (spawn, state, network helpers) lives in
// SandboxSupervision so the lean supervisor links it alone; the CLI sees both.
@_exported import SandboxSupervision
