# swipc: build, test, benchmark and install.
#   make                 release build, copied to ./swipc
#   make test            unit and end-to-end tests, the latter also against the release binary (CI)
#   make bench           benchmarks against util-linux (needs root for unshare)
#   make fuzz            libFuzzer on the parsers, FUZZ_RUNS inputs (default 1000000)
#   make check           make test, then the tests under AddressSanitizer and ThreadSanitizer
#   make install         PREFIX=/usr/local DESTDIR= (binary, man page, shell completions)
#   make uninstall       the same PREFIX and DESTDIR
# BIN=path installs (and generates completions from) that binary instead of a fresh release build.
SWIFT   ?= swift
PREFIX  ?= /usr/local
DESTDIR ?=
BIN     ?= ./swipc
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MANDIR   = $(DESTDIR)$(PREFIX)/share/man/man1
# The places bash-completion, zsh and fish look in by default under a prefix.
BASHDIR  = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR   = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR  = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
COMPDIR ?= .build/completions

# A fully static executable starts in about a third of the time of a dynamically linked one,
# which matters for shell loops; glibc's NSS "files" lookups (user names) still work in it.
RELEASE_FLAGS = -c release -Xswiftc -static-executable --product swipc
RELEASE_BIN   = $(shell $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path 2>/dev/null)/swipc

.PHONY: all build release debug test check fuzz bench man completions install uninstall clean

all: release

release:
	$(SWIFT) build $(RELEASE_FLAGS)
	cp "$(RELEASE_BIN)" ./swipc
	$(MAKE) --no-print-directory completions

# bash, zsh and fish scripts from argument-parser, made by the binary itself so that they always
# match its commands and options.
completions:
	mkdir -p $(COMPDIR)
	"$(BIN)" --generate-completion-script bash > $(COMPDIR)/swipc.bash
	"$(BIN)" --generate-completion-script zsh > $(COMPDIR)/_swipc
	"$(BIN)" --generate-completion-script fish > $(COMPDIR)/swipc.fish

build debug:
	$(SWIFT) build

# The unit and end-to-end tests against the debug build, then the end-to-end tests again against
# the static release binary, which is the one people install: a static executable links glibc
# differently (user lookups, no LD_PRELOAD), and only running it shows what that changes.
test:
	$(SWIFT) build
	$(SWIFT) test
	$(MAKE) --no-print-directory release
	SWIPC_BIN="$(CURDIR)/swipc" $(SWIFT) test --skip-build --filter EndToEndTests

# The parsers of /proc text, names, sizes, durations and keys under libFuzzer. SwiftPM compiles
# the instrumented objects (its own link would add a second main); the fuzzer is linked here.
FUZZ_RUNS ?= 1000000
FUZZ_DIR   = .build/fuzz
fuzz:
	$(SWIFT) build --product swipc-fuzz
	rm -rf $(FUZZ_DIR)/corpus && mkdir -p $(FUZZ_DIR)
	"$$($(SWIFT) build --show-bin-path)/swipc-fuzz" seed Fuzz/seeds $(FUZZ_DIR)/corpus
	$(SWIFT) build --build-path $(FUZZ_DIR) --target swipc-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DSWIPC_FUZZ
	cd "$$($(SWIFT) build --build-path $(FUZZ_DIR) --show-bin-path)" && swiftc -sanitize=fuzzer -use-ld=lld \
	  CSwipc.build/*.o CSystem.build/*.o SwipcCore.build/*.o SystemPackage.build/*.o swipc_fuzz.build/*.o \
	  -o $(CURDIR)/$(FUZZ_DIR)/swipc-fuzzer
	SWIFT_BACKTRACE=enable=no $(FUZZ_DIR)/swipc-fuzzer -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/crash- $(FUZZ_DIR)/corpus Fuzz/regressions

# make test, then the whole suite twice more, each sanitizer in a build directory of its own:
# under AddressSanitizer with the binary under test built with it too; under ThreadSanitizer
# with the plain debug binary (swipc never starts a thread, so TSan has nothing to watch there,
# and each TSan start would make the suite's 5,000 runs of swipc last hours), which checks the
# threads of the tests themselves. Then the fuzzer. Slower than make test; not run by CI.
# Leak detection is off: a command-line process that exits (and XCTest's runner) keeps what it
# allocated until exit by design; ASan still stops at any overflow or use after free.
check: test
	ASAN_OPTIONS=detect_leaks=0 SWIPC_SANITIZER=address SWIPC_BIN=$(CURDIR)/.build/address/debug/swipc \
	  $(SWIFT) test --sanitize=address --build-path .build/address
	SWIPC_SANITIZER=thread SWIPC_BIN=$(CURDIR)/.build/debug/swipc \
	  $(SWIFT) test --sanitize=thread --build-path .build/thread
	$(MAKE) --no-print-directory fuzz

bench: release
	bash Benchmarks/run.sh ./swipc

man:
	@test -f man/swipc.1 && echo "man/swipc.1 is maintained by hand; view it with: man -l man/swipc.1"

install: $(if $(filter ./swipc,$(BIN)),release,completions)
	install -d "$(BINDIR)" "$(MANDIR)" "$(BASHDIR)" "$(ZSHDIR)" "$(FISHDIR)"
	install -m 0755 "$(BIN)" "$(BINDIR)/swipc"
	install -m 0644 man/swipc.1 "$(MANDIR)/swipc.1"
	install -m 0644 $(COMPDIR)/swipc.bash "$(BASHDIR)/swipc"
	install -m 0644 $(COMPDIR)/_swipc "$(ZSHDIR)/_swipc"
	install -m 0644 $(COMPDIR)/swipc.fish "$(FISHDIR)/swipc.fish"

uninstall:
	rm -f "$(BINDIR)/swipc" "$(MANDIR)/swipc.1" "$(BASHDIR)/swipc" "$(ZSHDIR)/_swipc" "$(FISHDIR)/swipc.fish"

clean:
	rm -rf .build ./swipc
