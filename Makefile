# numasafe: plain Makefile. `make` builds lib/libnumasafe.a and the four commands into bin/.
# `make check` runs unit tests, host bats suites and the multi-node lab; `make demo` shows it.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wmissing-declarations -Wold-style-definition -Wpointer-arith -Wwrite-strings \
	-Wundef -Wvla -Wcast-qual -Wimplicit-fallthrough -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
# The test helpers (stand-in VMs) are built without sanitizers: they stand for the VMs, not for
# our code, and a sanitized process reserves terabytes of shadow address space that the tests'
# own page-by-page pagemap reads would crawl through.
HELPER_CFLAGS := $(CFLAGS) -ffunction-sections -fdata-sections
HELPER_LDFLAGS := $(LDFLAGS)
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
# ASan's xdr_* interceptors look their real functions up at start; libvirt's libtirpc, loaded
# later by dlopen, would leave them NULL. Under the sanitizers libvirt is loaded at start.
SANITIZE_LIBS := -Wl,--no-as-needed -lvirt -Wl,--as-needed
endif
CPPFLAGS += -Iinclude -D_GNU_SOURCE
# Each command links only what it calls: fast-swapoff does not load libvirt and its ~50
# dependencies, which costs a noticeable part of a run under emulation.
CFLAGS += -ffunction-sections -fdata-sections -pthread
LDFLAGS += -Wl,--gc-sections -Wl,--as-needed -pthread
LIBS := -lnuma -lcap -ljson-c $(SANITIZE_LIBS)
CMD_LIBS := -lpopt $(LIBS)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:lib/%.c=build/lib/%.o)
CMDS := numa-plan numa-migrate fast-swapoff vm-pin
BINS := $(CMDS:%=bin/%)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
HELPERS := build/tests/standin build/tests/shmseg

.SECONDARY:
.PHONY: all deps check unit bats lab-check demo install uninstall clean helpers bench-plan fuzz fuzz-build
all: $(BINS) $(HELPERS)

# Rebuild everything when the flags change (e.g. SANITIZE=...), since objects share build/.
build/flags: FORCE
	@mkdir -p build
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS)' > $@
FORCE:

build/lib/%.o: lib/%.c $(wildcard include/numasafe/*.h lib/*.h) build/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

build/libnumasafe.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

build/cmd/%.o: cmd/%.c $(wildcard cmd/*.h) $(wildcard include/numasafe/*.h) build/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# The commands' shared code is an archive too, so each command pulls only the objects it uses.
CMD_COMMON := build/cmd/common.o build/cmd/target.o build/cmd/move.o build/cmd/vmops.o
build/libcmd.a: $(CMD_COMMON)
	rm -f $@
	ar rcs $@ $^

bin/%: build/cmd/%.o build/libcmd.a build/libnumasafe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMD_LIBS)

build/tests/test_%: tests/unit/test_%.c build/libnumasafe.a tests/unit/unit.h build/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ilib $(CFLAGS) $(WARN) -Wno-missing-prototypes -o $@ $< build/libnumasafe.a $(LIBS) -lcmocka

build/tests/shmseg: tests/shmseg.c build/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(HELPER_CFLAGS) $(WARN) $(HELPER_LDFLAGS) -o $@ $<

build/tests/standin: tests/standin.c build/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(HELPER_CFLAGS) $(WARN) $(HELPER_LDFLAGS) -pthread -o $@ $<

# Benchmarks are built on demand only (bench/plan builds its own program through this rule).
build/bench/plan: bench/plan.c build/libnumasafe.a $(wildcard include/numasafe/*.h) build/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< build/libnumasafe.a $(LIBS)

bench-plan:
	bench/plan

# Fuzzing (tests/fuzz; README "Fuzzing"): one libFuzzer target per parser, built with clang
# against the library compiled again with the same sanitizers into build/fuzz/, so the normal
# build is untouched. `make fuzz` runs every kept crash input, then each target for
# FUZZ_SECONDS (`make fuzz FUZZ_SECONDS=600` for a long run; the corpus grows in build/fuzz/).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 2
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -pthread
FUZZ_SRC := $(filter-out tests/fuzz/common.c,$(wildcard tests/fuzz/*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/fuzz-%)
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)

build/fuzz/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN)' | cmp -s - $@ || echo '$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN)' > $@

build/fuzz/lib/%.o: lib/%.c $(wildcard include/numasafe/*.h lib/*.h) build/fuzz/flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) -c -o $@ $<

build/fuzz/libnumasafe.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

build/fuzz/common.o: tests/fuzz/common.c tests/fuzz/fuzz.h build/fuzz/flags
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(WARN) -c -o $@ $<

build/fuzz/fuzz-%: tests/fuzz/%.c tests/fuzz/fuzz.h build/fuzz/common.o build/fuzz/libnumasafe.a
	$(FUZZ_CC) $(CPPFLAGS) -Ilib $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) -o $@ $< build/fuzz/common.o \
		build/fuzz/libnumasafe.a $(LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

deps:
	@tests/deps.sh

unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do NS_FIXTURES=$(CURDIR)/tests/fixtures $$t || rc=1; done; exit $$rc

bats: all
	bats tests/*.bats

# One guest per group of lab files, 2 and 4 nodes, each with its own limit (tests/lab/lab-check).
lab-check: all
	tests/lab/lab-check

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) bats
	$(MAKE) lab-check

demo: deps
	$(MAKE) all
	tests/demo.sh

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(CMDS:%=man/%.8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(CMDS:%=completions/%) $(DESTDIR)$(BASHCOMPDIR)/

uninstall:
	rm -f $(CMDS:%=$(DESTDIR)$(BINDIR)/%) $(CMDS:%=$(DESTDIR)$(MANDIR)/man8/%.8) \
		$(CMDS:%=$(DESTDIR)$(BASHCOMPDIR)/%)

clean:
	rm -rf build bin
