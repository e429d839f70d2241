// The plan types (LaunchPlan, MountOp, IDMapping, errors, paths, logging) live in
// SandboxPlan, which the lean supervisor links without TOML; every user of
// SandboxCore sees them as before.
@_exported import SandboxPlan
