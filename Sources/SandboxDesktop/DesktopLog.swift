import Logging

/// Desktop set-up and teardown lines of the launch path (`sandbox -l debug`).
let log = Logger(label: "sandbox.desktop")
