# sandbox — build, install, test, demo.
#   make demo    install what is missing, build, install, run a sandboxed app
#   make check   the whole test suite (unit + integration, as root: it creates a test user)
#   make apps    install the app catalog from Debian and run every app sandboxed (writes Docs/apps.md)
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR      = $(PREFIX)/bin
LIBEXECDIR  = $(PREFIX)/libexec/sandbox
DATADIR     = $(PREFIX)/share/sandbox
MANDIR      = $(PREFIX)/share/man
DOCDIR      = $(PREFIX)/share/doc/sandbox
SYSCONFDIR ?= /etc
# The bridge unit's directory: Debian 12 keeps packaged units in /lib/systemd/system (debian/rules says so).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# Shell completions, where each shell looks for them under PREFIX. zsh searches
# /usr/share/zsh/vendor-completions for packages and PREFIX/share/zsh/site-functions otherwise.
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/share/zsh/vendor-completions,$(PREFIX)/share/zsh/site-functions)
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

SWIFT      ?= swift
SWIFTC     ?= swiftc
# --disable-local-rpath: no $$ORIGIN RUNPATH (SwiftPM's default); the supervisor is
# static-pie, and glibc's static-pie start-up aborts on any RUNPATH.
SWIFTFLAGS ?= -c release --static-swift-stdlib --disable-local-rpath
CC         ?= cc
BUILD      := .build
RELEASE    := $(BUILD)/release

# The setuid helper: plain C, no Swift runtime, warnings are errors, hardened.
# Package.swift's hardenedC compiles CSandboxNet and CSandboxSpawn for the tests
# with the same flags (all but -g and -fPIE, which SwiftPM chooses itself);
# Tests/Integration/toolchain.test.sh fails when the two lists drift.
NET_CFLAGS  = -std=gnu11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow \
              -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -fno-strict-aliasing
NET_LDFLAGS = -pie -Wl,-z,now,-z,relro,-z,noexecstack
NET_SRCS    = $(wildcard Sources/CSandboxNet/*.c) helper/sandbox-net.c
NET_BIN     = $(BUILD)/sandbox-net
# The supervisor's waiting form (helper/sandbox-monitor.c): C with the same flags,
# static-pie like the supervisor it replaces by execve (no loader, no library to
# map while a container runs). Beside the supervisor, where it looks for it.
MONITOR_SRCS = helper/sandbox-monitor.c helper/logline.c Sources/CSandboxSpawn/gate.c Sources/CSandboxSpawn/control.c
MONITOR_BIN  = $(RELEASE)/sandbox-monitor
# The launcher's waiting form (helper/sandbox-session.c), built the same way.
SESSION_SRCS = helper/sandbox-session.c helper/logline.c
SESSION_BIN  = $(RELEASE)/sandbox-session

.PHONY: all build compile completions toolchain deps test-deps install uninstall check unit toml-test integration apps demo bench clean deb

all: build

# Swift >= 6.2 first: Debian 12 has none, and without it nothing else is worth
# doing (installing packages included), so demo, check, build and bench stop here
# at once with where to get it (deps and test-deps are their first steps).
toolchain:
	@SWIFT="$(SWIFT)" scripts/check-toolchain.sh

deps: toolchain
	@scripts/install-deps.sh

test-deps: toolchain
	@scripts/install-deps.sh --test

# `make install DEPS=` (debian/rules) builds without installing Debian packages:
# dpkg-buildpackage has checked the Build-Depends already.
DEPS ?= deps
build: toolchain $(DEPS)
	$(SWIFT) build $(SWIFTFLAGS) --product sandbox
	@$(RELEASE)/sandbox --version >/dev/null || \
	  { echo "$(RELEASE)/sandbox does not start (built without SWIFTFLAGS' --disable-local-rpath?)" >&2; exit 1; }
	@# SwiftPM 6.3 was seen to keep a stale main.swift object of this one-file target after
	@# SandboxPlan's structs changed (a plan decoded by new code, read with the old
	@# layout: SIGSEGV). Recompiling that one file is cheap; a clean build never needs it.
	@touch Sources/sandbox-supervisor/main.swift
	$(SWIFT) build $(SWIFTFLAGS) --product sandbox-supervisor
	@# Started by hand it must say so and exit 2; a link that cannot start fails here.
	@$(RELEASE)/sandbox-supervisor 2>/dev/null 3<&- 4<&-; [ $$? -eq 2 ] || \
	  { echo "$(RELEASE)/sandbox-supervisor does not start (built without SWIFTFLAGS' --disable-local-rpath?)" >&2; exit 1; }
	$(MAKE) $(NET_BIN) $(MONITOR_BIN) $(SESSION_BIN) completions
	@$(MONITOR_BIN) 2>/dev/null; [ $$? -eq 2 ] || { echo "$(MONITOR_BIN) does not start" >&2; exit 1; }
	@$(SESSION_BIN) 2>/dev/null; [ $$? -eq 2 ] || { echo "$(SESSION_BIN) does not start" >&2; exit 1; }

# Generated from the command definitions by swift-argument-parser; profile names
# are completed by `sandbox ---completion`, which the scripts call on <TAB>.
COMPLETIONS := $(BUILD)/completions
completions:
	@mkdir -p $(COMPLETIONS)
	@# bash-completion sources the file: no #! line (Debian policy, lintian).
	$(RELEASE)/sandbox --generate-completion-script bash | sed '1{/^#!/d}' >$(COMPLETIONS)/sandbox.bash
	$(RELEASE)/sandbox --generate-completion-script zsh >$(COMPLETIONS)/_sandbox
	$(RELEASE)/sandbox --generate-completion-script fish >$(COMPLETIONS)/sandbox.fish

$(MONITOR_BIN): $(MONITOR_SRCS) $(wildcard Sources/CSandboxSpawn/include/*.h) helper/logline.h Makefile
	@mkdir -p $(RELEASE)
	$(CC) $(NET_CFLAGS) -ISources/CSandboxSpawn/include $(MONITOR_SRCS) -static-pie -Wl,-z,now,-z,relro,-z,noexecstack -o $@

$(SESSION_BIN): $(SESSION_SRCS) $(wildcard Sources/CSandboxSpawn/include/*.h) helper/logline.h Makefile
	@mkdir -p $(RELEASE)
	$(CC) $(NET_CFLAGS) -ISources/CSandboxSpawn/include $(SESSION_SRCS) -static-pie -Wl,-z,now,-z,relro,-z,noexecstack -o $@

$(NET_BIN): $(NET_SRCS) $(wildcard Sources/CSandboxNet/include/*.h) Makefile
	@mkdir -p $(BUILD)
	$(CC) $(NET_CFLAGS) -ISources/CSandboxNet/include $(NET_SRCS) $(NET_LDFLAGS) -o $@

# Every file `install` writes, so that `uninstall` removes exactly these (Tests/Integration/packaging.test.sh checks both).
MAN_PAGES := $(wildcard Docs/man/*.[158])
DOCS      := $(wildcard Docs/*.md)
PROFILES  := $(wildcard Profiles/*.toml)
INSTALLED_FILES = $(BINDIR)/sandbox \
  $(LIBEXECDIR)/sandbox-supervisor $(LIBEXECDIR)/sandbox-monitor $(LIBEXECDIR)/sandbox-session $(LIBEXECDIR)/sandbox-net $(LIBEXECDIR)/sandbox-net-setup \
  $(addprefix $(DATADIR)/profiles/,$(notdir $(PROFILES))) $(DATADIR)/apparmor/sandbox \
  $(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
  $(addprefix $(DOCDIR)/,$(notdir $(DOCS))) \
  $(SYSTEMDUNITDIR)/sandbox-net.service $(SYSCONFDIR)/sandbox/usernet.example \
  $(BASHCOMPDIR)/sandbox $(ZSHCOMPDIR)/_sandbox $(FISHCOMPDIR)/sandbox.fish
# Directories only sandbox uses: removed by `uninstall` when empty.
OWN_DIRS = $(DATADIR)/profiles $(DATADIR)/apparmor $(DATADIR) $(LIBEXECDIR) $(DOCDIR) $(SYSCONFDIR)/sandbox

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/profiles $(DESTDIR)$(DATADIR)/apparmor \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
	           $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(RELEASE)/sandbox $(DESTDIR)$(BINDIR)/sandbox
	install -m 0755 $(RELEASE)/sandbox-supervisor $(DESTDIR)$(LIBEXECDIR)/sandbox-supervisor
	install -m 0755 $(MONITOR_BIN) $(DESTDIR)$(LIBEXECDIR)/sandbox-monitor
	install -m 0755 $(SESSION_BIN) $(DESTDIR)$(LIBEXECDIR)/sandbox-session
	install -m 0644 $(PROFILES) $(DESTDIR)$(DATADIR)/profiles/
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(COMPLETIONS)/sandbox.bash $(DESTDIR)$(BASHCOMPDIR)/sandbox
	install -m 0644 $(COMPLETIONS)/_sandbox $(DESTDIR)$(ZSHCOMPDIR)/_sandbox
	install -m 0644 $(COMPLETIONS)/sandbox.fish $(DESTDIR)$(FISHCOMPDIR)/sandbox.fish
	@# The AppArmor profile (user namespaces for the launcher and the supervisor) with
	@# this PREFIX's paths. The package puts it in /etc/apparmor.d where AppArmor 4
	@# knows its rules (debian/postinst); from source: see Docs/admin.md.
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' helper/apparmor.in >$(DESTDIR)$(DATADIR)/apparmor/sandbox
	chmod 0644 $(DESTDIR)$(DATADIR)/apparmor/sandbox
	@# setuid root only when installing as root; an unprivileged install keeps it inert.
	install -m 0755 $(NET_BIN) $(DESTDIR)$(LIBEXECDIR)/sandbox-net
	@if [ "$$(id -u)" = 0 ]; then chown root:root $(DESTDIR)$(LIBEXECDIR)/sandbox-net && chmod 4755 $(DESTDIR)$(LIBEXECDIR)/sandbox-net; fi
	@# Host set-up for administrators: bridge/NAT script, its boot unit, an example policy (never the real one).
	install -m 0755 helper/sandbox-net-setup $(DESTDIR)$(LIBEXECDIR)/sandbox-net-setup
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/sandbox
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' helper/sandbox-net.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/sandbox-net.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sandbox-net.service
	install -m 0644 helper/usernet.example $(DESTDIR)$(SYSCONFDIR)/sandbox/usernet.example

# Needs no build: the list above is all it reads. Shared directories (bin, man1…) stay.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
	@for d in $(addprefix $(DESTDIR),$(OWN_DIRS)); do rmdir "$$d" 2>/dev/null || true; done

# A Debian package (dpkg-buildpackage -us -uc -b through debian/rules, which runs
# `make install DESTDIR=debian/sandbox PREFIX=/usr`), versioned from git
# (scripts/version.sh; DEB_VERSION= overrides it). Results in $(BUILD)/deb/.
DEB_VERSION ?= $(shell scripts/version.sh)
deb: toolchain
	@scripts/install-deps.sh --deb
	scripts/build-deb.sh "$(DEB_VERSION)" "$(BUILD)/deb"

# Unit tests (Swift Testing), the public toml-test suite, then integration tests
# of the installed release build.
check: test-deps unit toml-test integration

unit:
	$(SWIFT) test

# Every valid and invalid case of toml-test (Debian's golang-github-burntsushi-toml-dev)
# through the parser; Tests/TOML/skip.txt lists what is not run and why.
toml-test:
	$(SWIFT) build --product toml-decode
	Tests/TOML/run.sh $(BUILD)/debug/toml-decode

integration: build
	Tests/Integration/run.sh

# Not part of check: installs ~600 MB of Debian packages (Tests/Apps/catalog) and
# runs each app on the test desktop; screenshots stay in $IT_STATE/apps.
apps: test-deps build
	Tests/Apps/run.sh

demo: deps
	@scripts/install-deps.sh --test
	$(MAKE) install
	PREFIX=$(PREFIX) scripts/demo.sh

bench:
	@scripts/install-deps.sh --bench
	$(MAKE) build
	scripts/bench.sh

clean:
	rm -rf $(BUILD)

# libFuzzer runs of the helper's parsers (usernet, lease database); the
# integration tests run it briefly, run it longer by hand: make fuzz-net FUZZ_SECONDS=600
FUZZ_SECONDS ?= 10
FUZZ_DIR     := $(BUILD)/fuzz
.PHONY: fuzz-net
fuzz-net:
	@mkdir -p $(FUZZ_DIR)
	@set -e; for t in usernet leases; do \
	  clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -ISources/CSandboxNet/include Tests/Fuzz/fuzz_$$t.c Sources/CSandboxNet/lease.c Sources/CSandboxNet/policy.c \
	    -o $(FUZZ_DIR)/fuzz_$$t; \
	  mkdir -p $(FUZZ_DIR)/corpus-$$t; cp Tests/Fuzz/seeds/$$t/* $(FUZZ_DIR)/corpus-$$t/; \
	  $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 $(FUZZ_DIR)/corpus-$$t 2>$(FUZZ_DIR)/fuzz_$$t.log \
	    || { tail -n 40 $(FUZZ_DIR)/fuzz_$$t.log; exit 1; }; \
	  grep -h 'stat::number_of_executed_units' $(FUZZ_DIR)/fuzz_$$t.log | sed "s/^/fuzz_$$t: /"; \
	done

# libFuzzer (with AddressSanitizer) on the TOML parser: SandboxCore built with
# coverage in its own scratch directory, the target in Tests/TOML/Fuzz, seeded
# with the shipped profiles and the toml-test documents when installed.
#   make fuzz-toml FUZZ_SECONDS=600
TOML_FUZZ_BUILD := $(BUILD)/fuzz-toml
TOML_SUITE      ?= /usr/share/gocode/src/github.com/BurntSushi/toml/internal/toml-test/tests
.PHONY: fuzz-toml
fuzz-toml:
	@mkdir -p $(FUZZ_DIR)/corpus-toml
	$(SWIFT) build --target SandboxCore --scratch-path $(TOML_FUZZ_BUILD) -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
	@set -e; d=$(TOML_FUZZ_BUILD)/debug; csys=$(TOML_FUZZ_BUILD)/checkouts/swift-system/Sources/CSystem/include; \
	  $(SWIFTC) -sanitize=fuzzer,address -parse-as-library -g -I $$d/Modules \
	    -Xcc -fmodule-map-file=$$csys/module.modulemap -Xcc -I$$csys Tests/TOML/Fuzz/fuzz_toml.swift \
	    $$d/SandboxCore.build/*.o $$d/SandboxPlan.build/*.o $$d/Logging.build/*.o $$d/SystemPackage.build/*.o $$d/CSystem.build/*.o \
	    -o $(FUZZ_DIR)/fuzz_toml >$(FUZZ_DIR)/fuzz_toml-link.log 2>&1 || { cat $(FUZZ_DIR)/fuzz_toml-link.log; exit 1; }
	@cp Profiles/*.toml $(FUZZ_DIR)/corpus-toml/
	@if [ -d $(TOML_SUITE) ]; then find $(TOML_SUITE) -name '*.toml' | while read -r f; do \
	  cp "$$f" "$(FUZZ_DIR)/corpus-toml/suite-$$(echo "$$f" | md5sum | cut -c1-12).toml"; done; fi
	$(FUZZ_DIR)/fuzz_toml -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 $(FUZZ_DIR)/corpus-toml 2>$(FUZZ_DIR)/fuzz_toml.log \
	  || { tail -n 40 $(FUZZ_DIR)/fuzz_toml.log; exit 1; }
	@grep -h 'stat::number_of_executed_units' $(FUZZ_DIR)/fuzz_toml.log | sed "s/^/fuzz_toml: /"
