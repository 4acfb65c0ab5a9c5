# numasafe: plain Makefile. `make` builds lib/libnumasafe.a and the four commands into bin/.
# `make check` runs unit tests, host bats suites (tests/host), the Debian package and the
# multi-node lab; `make check-host` the first two only;
# `make demo` shows it; `make deb` builds the package into build/deb/.

# The commands are administration tools (like swapoff and numad): sbin. The Debian package
# installs with PREFIX=/usr UNITDIR=/lib/systemd/system (debian/rules); state and lock
# directories (/var/lib/numasafe, /run/numasafe) are compiled in, not configured.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR ?= $(PREFIX)/share/man
SCHEMADIR ?= $(PREFIX)/share/numasafe/schema
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
DESTDIR ?=
VERSION := $(shell sed -n 's/^\#define NS_VERSION "\(.*\)"/\1/p' include/numasafe/numasafe.h)

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
CPPFLAGS += -Iinclude -D_GNU_SOURCE -DNS_SYSCONFDIR=\"$(SYSCONFDIR)\"
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
HELPERS := build/tests/standin build/tests/shmseg build/tests/numasafe-rebalance
UNITS := numasafe-metrics.service numasafe-metrics.timer numasafe-rebalance.service numasafe-rebalance.timer

.SECONDARY:
.PHONY: all programs deps check check-host check-ubsan unit bats lab-check ansible-check json-check demo install uninstall clean helpers \
	bench-plan deb package-check fuzz fuzz-build
all: programs $(HELPERS)
programs: $(BINS)

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
# numa-plan's subcommands (cmd/plan-*.c) are linked into numa-plan alone.
PLAN_OBJ := $(patsubst cmd/%.c,build/cmd/%.o,$(wildcard cmd/plan-*.c))
CMD_COMMON := $(patsubst cmd/%.c,build/cmd/%.o,$(filter-out $(CMDS:%=cmd/%.c) $(wildcard cmd/plan-*.c),$(wildcard cmd/*.c)))
build/libcmd.a: $(CMD_COMMON)
	rm -f $@
	ar rcs $@ $^

bin/numa-plan: build/cmd/numa-plan.o $(PLAN_OBJ) build/libcmd.a build/libnumasafe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMD_LIBS)

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

# The rebalance policy script as the tests run it: the commands of this tree's bin/.
build/tests/numasafe-rebalance: systemd/numasafe-rebalance.in
	@mkdir -p $(@D)
	sed -e 's|@SBINDIR@|$(CURDIR)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@
	chmod 0755 $@

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

# The suites run changing commands as root, which record their last runs in /var/lib/numasafe
# (numasafe/state.h): what was there before is put back afterwards.
bats: all
	tests/keep-state bats tests/host/*.bats

# The lab suites in guests, each with its own limit (tests/lab/lab-check): every test on 6.1
# with 2 nodes, the tests more nodes change on 4, moving, swap and PSI again on 6.12.
lab-check: all
	tests/lab/lab-check

# The Ansible collection (ansible/): build, ansible-doc and ansible-test sanity, the modules on
# this host, then inside a 2-node lab guest.
ansible-check: all
	bats tests/ansible/collection.bats tests/ansible/host.bats
	tests/lab/lab-bats --nodes 2 --mem 768 --swap 64 tests/ansible/lab.bats

# Every JSON document the suites produced (kept by tests/bin) against schema/; each kind must
# have been seen at least once, so no schema goes untested.
# (Two assignments: a backslash continuation would put a space inside the list.)
JSON_KINDS := numasafe-show,numasafe-steal,numasafe-check,numasafe-move,numasafe-swapoff,numasafe-pin
JSON_KINDS := $(JSON_KINDS),numasafe-place,numasafe-pin-show,numasafe-plan-run,numasafe-rebalance
JSON_KINDS := $(JSON_KINDS),numasafe-error,numasafe-progress
json-check:
	/usr/bin/python3 tests/json-validate --require $(JSON_KINDS) build/json-log/*

# UBSan (issue 22): the unit tests and the host suites again, against the same sources built
# with SANITIZE=undefined in a copy of the tree (build/ubsan/tree; the normal build is left as
# it is). Every report aborts the process that made it, so the test that ran it fails, and is
# logged in build/ubsan/log/; tests/ubsan-report then lists the reports by source line.
# UBSAN_BATS: the host suites to run (default all).
UBSAN_DIR := build/ubsan
UBSAN_BATS ?= tests/host/*.bats
UBSAN_RUN := UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$(CURDIR)/$(UBSAN_DIR)/log/ubsan
check-ubsan: all
	rm -rf $(UBSAN_DIR)/log $(addprefix $(UBSAN_DIR)/tree/,Makefile include lib cmd systemd tests)
	mkdir -p $(UBSAN_DIR)/log $(UBSAN_DIR)/tree/tests
	chmod 1777 $(UBSAN_DIR)/log
	cp -a Makefile include lib cmd systemd $(UBSAN_DIR)/tree/
	cp -a tests/unit tests/standin.c tests/shmseg.c $(UBSAN_DIR)/tree/tests/
	$(MAKE) -C $(UBSAN_DIR)/tree SANITIZE=undefined programs build/tests/numasafe-rebalance $(UNIT_BIN)
	@rc=0; \
	for t in $(UNIT_BIN); do $(UBSAN_RUN) NS_FIXTURES=$(CURDIR)/tests/fixtures $(UBSAN_DIR)/tree/$$t || rc=1; done; \
	$(UBSAN_RUN) NS_REAL_BIN=$(CURDIR)/$(UBSAN_DIR)/tree/bin \
		NS_REBALANCE=$(CURDIR)/$(UBSAN_DIR)/tree/build/tests/numasafe-rebalance \
		tests/keep-state bats $(UBSAN_BATS) || rc=1; \
	tests/ubsan-report $(UBSAN_DIR)/log || rc=1; \
	exit $$rc

# The inner loop (README "Tests"): a short fuzz run, then the unit tests and the host suites
# against the UBSan build (check-ubsan: the same sources and flags plus the sanitizer), and
# every JSON document they printed against its schema; minutes, no guest. `make bats` runs
# the host suites against the plain build; the package and the lab run the plain build too.
# `make check` is check-host plus the package and the lab, and then requires every kind of
# document to be seen.
check-host: deps
	rm -rf build/json-log
	$(MAKE) all
	$(MAKE) fuzz
	$(MAKE) check-ubsan
	/usr/bin/python3 tests/json-validate build/json-log/*

check: check-host
	$(MAKE) package-check
	$(MAKE) lab-check
	$(MAKE) ansible-check
	$(MAKE) json-check

# The Debian package, built from a copy of this tree (dpkg-buildpackage cleans the tree it
# builds in, which would take bin/ and build/ from the tests): build/deb/numasafe_VERSION_ARCH.deb.
deb:
	rm -rf build/deb
	mkdir -p build/deb/src
	tar -c --exclude=./.git --exclude=./build --exclude=./bin --exclude=./debian/numasafe \
		--exclude=./debian/.debhelper --exclude=./debian/tmp . | tar -x -C build/deb/src
	cd build/deb/src && dpkg-buildpackage -us -uc -b
	ls build/deb/numasafe_$(VERSION)_*.deb

# The package as an operator gets it: lintian, installed, the host usage suites against
# /usr/sbin, the units verified, then purged with nothing left behind (tests/package-check).
package-check: deb
	tests/keep-state tests/package-check build/deb/numasafe_$(VERSION)_*.deb

demo: deps
	$(MAKE) all
	tests/demo.sh

# Paths the units and the rebalance script name are filled in here, as installed.
SUBST := sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
install: $(BINS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(SCHEMADIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBEXECDIR)/numasafe $(DESTDIR)$(SYSCONFDIR)/default
	install -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(CMDS:%=man/%.8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/numasafe.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(CMDS:%=completions/%) $(DESTDIR)$(BASHCOMPDIR)/
	install -m 0644 schema/*.json $(DESTDIR)$(SCHEMADIR)/
	for u in $(UNITS); do \
		if [ -f systemd/$$u.in ]; then $(SUBST) systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u; \
		else cp systemd/$$u $(DESTDIR)$(UNITDIR)/$$u; fi; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	$(SUBST) systemd/numasafe-rebalance.in >$(DESTDIR)$(LIBEXECDIR)/numasafe/numasafe-rebalance
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/numasafe/numasafe-rebalance
	# the policy is the operator's: an edited one is kept
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/numasafe ] || \
		install -m 0644 systemd/numasafe.default $(DESTDIR)$(SYSCONFDIR)/default/numasafe

uninstall:
	rm -f $(CMDS:%=$(DESTDIR)$(SBINDIR)/%) $(CMDS:%=$(DESTDIR)$(MANDIR)/man8/%.8) $(DESTDIR)$(MANDIR)/man7/numasafe.7 \
		$(CMDS:%=$(DESTDIR)$(BASHCOMPDIR)/%) $(UNITS:%=$(DESTDIR)$(UNITDIR)/%)
	rm -rf $(DESTDIR)$(SCHEMADIR) $(DESTDIR)$(LIBEXECDIR)/numasafe

clean:
	rm -rf build bin
