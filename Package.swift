// swift-tools-version:6.2
// sandbox: an unprivileged desktop-app sandboxing launcher.
// The setuid helper `sandbox-net` is NOT built here: the Makefile builds it with
// cc from Sources/CSandboxNet so it never links the Swift runtime (which reads
// SWIFT_* variables even under AT_SECURE). The library target below only lets
// Swift tests reach its parsers.
import PackageDescription

// C that runs between clone and exec, or in the setuid helper: warnings are errors,
// and the library the tests exercise is compiled as the installed helper is. These
// flags must agree with the Makefile's NET_CFLAGS (which builds sandbox-net);
// Tests/Integration/toolchain.test.sh fails when they drift. The manifest does not
// read the Makefile: SwiftPM caches the evaluated manifest by its own contents, so a
// Makefile edit would not reach the build. -O2 in debug builds too: without
// optimisation glibc turns _FORTIFY_SOURCE off (__USE_FORTIFY_LEVEL 0) without a word.
let hardenedC: [CSetting] = [
    .define("_GNU_SOURCE"),
    .unsafeFlags([
        "-O2", "-Wall", "-Wextra", "-Werror", "-Wformat=2", "-Wshadow",
        "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fno-strict-aliasing",
    ]),
]

let package = Package(
    name: "sandbox",
    products: [
        .executable(name: "sandbox", targets: ["sandbox"]),
        .executable(name: "sandbox-supervisor", targets: ["sandbox-supervisor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // Foundation stays off the launch path: no SubprocessFoundation trait.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2", traits: []),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CLibseccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),

        // The only code that runs between clone and exec, the container's init, and setns joins.
        .target(name: "CSandboxSpawn", cSettings: hardenedC),
        // The setuid helper's logic (policy, lease database, netlink), shared with tests and the fuzzer.
        .target(name: "CSandboxNet", cSettings: hardenedC),

        // The one system layer every other module builds on: OwnedFD, the EINTR retry,
        // errno text, unix-socket addresses, wait statuses. Glibc only, and a small C
        // file for what Glibc's module hides (pipe2, posix_spawn's close-from and
        // setsid for SandboxPlan's HostCommand): the static-pie supervisor links it.
        .target(name: "CSandboxSystem", cSettings: hardenedC),
        .target(name: "SandboxSystem", dependencies: ["CSandboxSystem"]),
        // The supervisor's event loop and the mediators it drives for a container's
        // lifetime (sound, X11): no Foundation, TOML, libpulse or libX11.
        .target(name: "SandboxMediators", dependencies: ["SandboxSystem"]),
        // The plan as data: LaunchPlan and its encoding, errors, paths, logging, and the
        // posix_spawn primitive every host program goes through. No TOML: the
        // supervisor links it.
        .target(
            name: "SandboxPlan",
            dependencies: [
                "SandboxSystem", "CSandboxSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Pure Swift: profile model, parser, validation, id maps, mount plan.
        .target(
            name: "SandboxCore",
            dependencies: [
                "SandboxPlan",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // What the per-container supervisor runs: spawn, id-map writing, state, the
        // network helpers, the mediators' loop. Lean: no TOML, ArgumentParser,
        // libseccomp, libcap, libpulse or libX11.
        .target(
            name: "SandboxSupervision",
            dependencies: [
                "SandboxSystem", "SandboxPlan", "SandboxMediators", "CSandboxSpawn", "CSandboxNet",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The per-container supervisor: fed the encoded plan, lives as long as the container.
        // Linked static-pie: no dynamic loader, libstdc++ or symbol look-ups on each start
        // (2.7 M -> 0.7 M instructions, 277 -> 179 page faults) and no shared libraries
        // mapped while it runs, with ASLR kept (it parses what the app sends its
        // mediators). It calls nothing that needs NSS or dlopen. gold cannot link
        // static-pie; the toolchain's lld can. Release only, and built with
        // --disable-local-rpath (the Makefile does): glibc's static-pie start-up
        // asserts there is no RUNPATH, and SwiftPM adds $ORIGIN by default. Relative
        // relocations packed (RELR, glibc 2.36): a 1 MB table of 45,000 entries becomes
        // 9 KB, which start-up reads and applies faster (0.2 M instructions a start).
        .executableTarget(
            name: "sandbox-supervisor", dependencies: ["SandboxSupervision"],
            linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld", "-Xclang-linker", "-static-pie",
                                           "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                                          .when(configuration: .release))]
        ),
        // The launcher's side: policy compilation, sessions, images, probes.
        .target(
            name: "SandboxRuntime",
            dependencies: [
                "SandboxCore", "SandboxSupervision", "CSandboxSpawn", "CLibcap", "CLibseccomp", "CSandboxNet",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // X11, PulseAudio, Wayland, devices, .desktop entries. No libX11, libXau or
        // libpulse: the X and sound protocols are SandboxMediators' pure Swift.
        .target(
            name: "SandboxDesktop",
            dependencies: [
                "SandboxCore", "SandboxMediators", "SandboxSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The composition root: profile + host facts → the complete plan (tested without a kernel).
        .target(name: "SandboxLaunch", dependencies: ["SandboxCore", "SandboxRuntime", "SandboxDesktop"]),
        .executableTarget(
            name: "sandbox",
            dependencies: [
                "SandboxCore", "SandboxRuntime", "SandboxDesktop", "SandboxLaunch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Static-pie like the supervisor, for the same reason: every click and
            // join starts it (--version 2.8 -> 1.7 ms, a join 5.0 -> 4.0 ms). It must
            // call nothing that loads NSS modules or dlopens: user and group names
            // come from SandboxCore's Accounts (files, then getent(1)).
            linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld", "-Xclang-linker", "-static-pie",
                                           "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                                          .when(configuration: .release))]
        ),

        // toml-test's decoder interface for Tests/TOML/run.sh (the public TOML test suite).
        .executableTarget(name: "toml-decode", dependencies: ["SandboxCore"], path: "Tests/TOML/Decoder"),

        // What the test targets share: temporary directories removed fd-relative, seeded generators.
        .target(name: "SandboxTestSupport", dependencies: ["SandboxPlan", "SandboxSystem"], path: "Tests/SandboxTestSupport"),
        .testTarget(name: "SandboxCoreTests", dependencies: ["SandboxCore", "SandboxTestSupport"]),
        .testTarget(name: "SandboxRuntimeTests", dependencies: ["SandboxRuntime", "SandboxCore", "SandboxTestSupport"]),
        .testTarget(name: "SandboxDesktopTests", dependencies: ["SandboxDesktop", "SandboxCore", "SandboxMediators", "SandboxTestSupport"]),
        .testTarget(name: "SandboxLaunchTests", dependencies: ["SandboxLaunch", "SandboxCore", "SandboxRuntime"]),
        .testTarget(name: "SandboxPlanTests", dependencies: ["SandboxPlan", "SandboxTestSupport"]),
        .testTarget(name: "SandboxMediatorsTests", dependencies: ["SandboxMediators", "SandboxSystem", "SandboxTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "SandboxSystemTests", dependencies: ["SandboxSystem"]),
        // The launcher's own command-line code (the executable target, imported for testing).
        .testTarget(name: "SandboxCLITests", dependencies: ["sandbox", "SandboxPlan", "SandboxTestSupport"]),
        .testTarget(name: "SandboxNetTests", dependencies: ["CSandboxNet", "SandboxRuntime", "SandboxCore", "SandboxTestSupport"]),
    ],
    swiftLanguageModes: [.v6],
    cLanguageStandard: .gnu11   // as the Makefile's NET_CFLAGS
)
