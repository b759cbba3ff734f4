# swipc: build, test, benchmark and install.
#   make                 release build, copied to ./swipc
#   make test            unit and end-to-end tests (the command CI runs)
#   make bench           benchmarks against util-linux (needs root for unshare)
#   make install         PREFIX=/usr/local DESTDIR= (binary and man page)
SWIFT   ?= swift
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MANDIR   = $(DESTDIR)$(PREFIX)/share/man/man1

# A fully static executable starts in about a third of the time of a dynamically linked one,
# which matters for shell loops; glibc's NSS "files" lookups (user names) still work in it.
RELEASE_FLAGS = -c release -Xswiftc -static-executable
RELEASE_BIN   = $(shell $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path 2>/dev/null)/swipc

.PHONY: all build release debug test bench man install uninstall clean

all: release

release:
	$(SWIFT) build $(RELEASE_FLAGS)
	cp "$(RELEASE_BIN)" ./swipc

build debug:
	$(SWIFT) build

test:
	$(SWIFT) build
	$(SWIFT) test

bench: release
	bash Benchmarks/run.sh ./swipc

man:
	@test -f man/swipc.1 && echo "man/swipc.1 is maintained by hand; view it with: man -l man/swipc.1"

install: release
	install -d "$(BINDIR)" "$(MANDIR)"
	install -m 0755 ./swipc "$(BINDIR)/swipc"
	install -m 0644 man/swipc.1 "$(MANDIR)/swipc.1"

uninstall:
	rm -f "$(BINDIR)/swipc" "$(MANDIR)/swipc.1"

clean:
	rm -rf .build ./swipc
