# sandbox — build, install, test, demo.
#   make demo    install what is missing, build, install, run a sandboxed app
#   make check   the whole test suite (unit + integration, as root: it creates a test user)
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR      = $(PREFIX)/bin
LIBEXECDIR  = $(PREFIX)/libexec/sandbox
DATADIR     = $(PREFIX)/share/sandbox
MANDIR      = $(PREFIX)/share/man
DOCDIR      = $(PREFIX)/share/doc/sandbox
SYSCONFDIR ?= /etc

SWIFT      ?= swift
SWIFTC     ?= swiftc
SWIFTFLAGS ?= -c release --static-swift-stdlib
CC         ?= cc
BUILD      := .build
RELEASE    := $(BUILD)/release

# The setuid helper: plain C, no Swift runtime, warnings are errors, hardened.
NET_CFLAGS  = -std=gnu11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow \
              -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -fno-strict-aliasing
NET_LDFLAGS = -pie -Wl,-z,now,-z,relro,-z,noexecstack
NET_SRCS    = $(wildcard Sources/CSandboxNet/*.c) helper/sandbox-net.c
NET_BIN     = $(BUILD)/sandbox-net

.PHONY: all build toolchain deps test-deps install uninstall check unit toml-test integration demo bench clean

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

build: deps
	$(SWIFT) build $(SWIFTFLAGS) --product sandbox
	@# SwiftPM 6.3 was seen to keep a stale main.swift object of this one-file target after
	@# SandboxPlan's structs changed (a plan decoded by new code, read with the old
	@# layout: SIGSEGV). Recompiling that one file is cheap; a clean build never needs it.
	@touch Sources/sandbox-supervisor/main.swift
	$(SWIFT) build $(SWIFTFLAGS) --product sandbox-supervisor
	$(MAKE) $(NET_BIN)

$(NET_BIN): $(NET_SRCS) $(wildcard Sources/CSandboxNet/include/*.h)
	@mkdir -p $(BUILD)
	$(CC) $(NET_CFLAGS) -ISources/CSandboxNet/include $(NET_SRCS) $(NET_LDFLAGS) -o $@

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/profiles \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(RELEASE)/sandbox $(DESTDIR)$(BINDIR)/sandbox
	install -m 0755 $(RELEASE)/sandbox-supervisor $(DESTDIR)$(LIBEXECDIR)/sandbox-supervisor
	install -m 0644 Profiles/*.toml $(DESTDIR)$(DATADIR)/profiles/
	install -m 0644 Docs/man/*.1 $(DESTDIR)$(MANDIR)/man1/ 2>/dev/null || true
	install -m 0644 Docs/man/*.5 $(DESTDIR)$(MANDIR)/man5/ 2>/dev/null || true
	install -m 0644 Docs/man/*.8 $(DESTDIR)$(MANDIR)/man8/ 2>/dev/null || true
	install -m 0644 Docs/*.md $(DESTDIR)$(DOCDIR)/ 2>/dev/null || true
	@# setuid root only when installing as root; an unprivileged install keeps it inert.
	install -m 0755 $(NET_BIN) $(DESTDIR)$(LIBEXECDIR)/sandbox-net
	@if [ "$$(id -u)" = 0 ]; then chown root:root $(DESTDIR)$(LIBEXECDIR)/sandbox-net && chmod 4755 $(DESTDIR)$(LIBEXECDIR)/sandbox-net; fi
	@# Host set-up for administrators: bridge/NAT script, its boot unit, an example policy (never the real one).
	install -m 0755 helper/sandbox-net-setup $(DESTDIR)$(LIBEXECDIR)/sandbox-net-setup
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(SYSCONFDIR)/sandbox
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' helper/sandbox-net.service.in >$(DESTDIR)$(PREFIX)/lib/systemd/system/sandbox-net.service
	install -m 0644 helper/usernet.example $(DESTDIR)$(SYSCONFDIR)/sandbox/usernet.example

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sandbox $(DESTDIR)$(LIBEXECDIR)/sandbox-net $(DESTDIR)$(LIBEXECDIR)/sandbox-supervisor
	rm -f $(DESTDIR)$(LIBEXECDIR)/sandbox-net-setup $(DESTDIR)$(PREFIX)/lib/systemd/system/sandbox-net.service
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(MANDIR)/man1/sandbox.1 $(DESTDIR)$(MANDIR)/man5/sandbox-profile.5 $(DESTDIR)$(MANDIR)/man8/sandbox-net.8

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
