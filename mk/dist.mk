# mk/dist.mk - release artifacts.  Included by the Makefile after
# mk/static.mk (it reuses its flags and the x86_64 static binary).
#
#   make static-aarch64   build/aarch64/entrypoint-static, cross-compiled
#                         with Debian's aarch64-linux-gnu-gcc and the arm64
#                         musl (musl-dev:arm64); OpenSSL and libpq built by
#                         scripts/static-deps.sh into .cache/static-aarch64
#   make dist             dist/: both static binaries, a .deb for each
#                         architecture, SHA256SUMS (scripts/dist.sh)
#   make dist-image       the FROM-scratch image entrypoint:VERSION (and
#                         :latest), a manifest list of both architectures
#                         (scripts/dist-image.sh)
#   make check-dist       the dist suite: tests/sh/t09[5-9]* (the artifacts)
#   make check-qemu       the aarch64 binary under qemu-user: see below
#
# dist runs on an x86_64 machine (the aarch64 binary is cross-compiled).
#
# Like the x86_64 cache, .cache/static-aarch64 is built once (a few
# minutes) and reused until scripts/static-deps.sh changes.
.PHONY: static-aarch64 dist dist-image check-dist

EP_A64CACHE = .cache/static-aarch64
EP_A64PREFIX = $(EP_A64CACHE)/prefix
EP_A64READY = $(EP_A64PREFIX)/.ready
EP_A64BUILD = build/aarch64
EP_A64BIN = $(EP_A64BUILD)/entrypoint-static
EP_A64CC = aarch64-linux-gnu-gcc \
	-specs /usr/lib/aarch64-linux-musl/musl-gcc.specs
EP_A64CPPFLAGS = $(filter-out -I/usr/include/postgresql,$(EP_CPPFLAGS)) \
	-I$(EP_A64PREFIX)/include
# -mno-outline-atomics: gcc's outline atomics need glibc's __getauxval,
# which musl lacks (scripts/static-deps.sh builds the libraries alike).
EP_A64CFLAGS = $(EP_SCFLAGS) -mno-outline-atomics
EP_A64LIBS = $(addprefix $(EP_A64PREFIX)/lib/,libpq.a libpgcommon.a \
	libpgport.a libssl.a libcrypto.a libinih.a)
EP_A64OBJS = $(SRCS:%.c=$(EP_A64BUILD)/obj/%.o)

# `entrypoint version` prints VERSION and the commit, compiled into the
# objects that use them: a stamp named after both makes those objects
# older than it whenever either changes, so that no release binary ever
# carries the commit of an earlier build.
EP_VSTAMP = build/stamp/version-$(EP_VERSION)-$(EP_COMMIT)
EP_VSRCS := $(shell grep -l -e EP_VERSION -e EP_COMMIT $(SRCS) 2>/dev/null)

$(EP_VSTAMP):
	@mkdir -p $(@D)
	@rm -f $(@D)/version-*
	@touch $@

$(EP_VSRCS:%.c=$(EP_SBUILD)/obj/%.o): $(EP_VSTAMP)
$(EP_VSRCS:%.c=$(EP_A64BUILD)/obj/%.o): $(EP_VSTAMP)

static-aarch64: $(EP_A64BIN)

$(EP_A64BIN): $(EP_A64OBJS) $(EP_A64READY)
	$(EP_A64CC) $(EP_SLDFLAGS) -o $@ $(EP_A64OBJS) $(EP_A64LIBS)

$(EP_A64BUILD)/obj/%.o: %.c | $(EP_A64READY)
	@mkdir -p $(@D)
	$(EP_A64CC) $(EP_A64CPPFLAGS) $(EP_A64CFLAGS) -MMD -MP -c -o $@ $<

$(EP_A64READY): scripts/static-deps.sh
	env -i PATH="$$PATH" HOME="$$HOME" LC_ALL=C \
		sh scripts/static-deps.sh $(EP_A64CACHE) aarch64

-include $(EP_A64OBJS:.o=.d)

# The man page goes into the .debs when there is one (EP_MAN names it):
# the Makefile's `make man` output when it has that target (it then
# defines EP_MAN_BIN, the build that prints the page), else a page found.
ifdef EP_MAN_BIN
EP_MAN ?= $(BUILD)/entrypoint.1
EP_DIST_MAN = $(EP_MAN)
else
EP_MAN ?= $(firstword $(wildcard build/entrypoint.1 entrypoint.1 \
	docs/entrypoint.1 man/entrypoint.1))
EP_DIST_MAN =
endif

# The `shell` link (the binary is multi-call) goes in next to the binary
# when `make install` installs it too (it then defines EP_INSTALL_BIN).
EP_SHELL_LINK = $(if $(EP_INSTALL_BIN),1,)

dist: $(EP_SBIN) $(EP_A64BIN) $(EP_DIST_MAN)
	EP_VERSION=$(EP_VERSION) EP_COMMIT=$(EP_COMMIT) EP_MAN=$(EP_MAN) \
		EP_SHELL_LINK=$(EP_SHELL_LINK) \
		sh scripts/dist.sh $(EP_SBIN) $(EP_A64BIN)

dist-image: dist
	EP_VERSION=$(EP_VERSION) EP_COMMIT=$(EP_COMMIT) \
		sh scripts/dist-image.sh

check-dist: all helpers dist
	$(EP_TESTENV) EP_MAN=$(EP_MAN) EP_SHELL_LINK=$(EP_SHELL_LINK) \
		$(PROVE) $(wildcard tests/sh/t09[5-9]*.sh)

# --- the aarch64 binary under qemu-user ---------------------------------
# t0960 (that EP really runs the aarch64 binary under qemu), the CLI and
# config suites (t0*, but not t09* which is about the x86_64 release
# binary, and t2*) and a real migrate, its interruption by signals
# and the audit trail against the suite's PostgreSQL (t3000, t3400,
# t4000), with EP a wrapper that runs
# build/aarch64/entrypoint-static under qemu-aarch64-static (no binfmt_misc
# registration needed).  EP_QEMU=1 tells a suite that qemu shows through:
# qemu-user refuses prctl(PR_SET_CHILD_SUBREAPER), so the binary warns.
# The wrapper hands its own name to the binary as argv[0] (qemu's -0), so
# that a `shell` link to it is the multi-call `shell` (t0520, t0500).
# The PID-1 suite (t1*) does not run here: as PID 1 of a PID namespace
# under qemu-user the signal and reaping tests hang or fail (qemu's own
# signal emulation sits between the kernel and the binary), so those
# belong on real arm64 hardware.  Nor does t6000 (faults): qemu's own file
# descriptors and threads count against the ulimits it sets.  The other pg
# suites pass under qemu but add little for their time.
EP_QEMU_DIR = build/qemu
EP_QEMU_SH = tests/sh/t0960-qemu.sh \
	$(filter-out tests/sh/t09%,$(wildcard tests/sh/t0*.sh)) \
	$(wildcard tests/sh/t2*.sh)
EP_QEMU_PG = $(wildcard tests/pg/t3000-*.sh tests/pg/t3400-*.sh \
	tests/pg/t4000-*.sh)

.PHONY: check-qemu
$(EP_QEMU_DIR)/entrypoint: $(EP_A64BIN) mk/dist.mk
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec qemu-aarch64-static -0 "$$0" "%s" "$$@"\n' \
		'$(abspath $(EP_A64BIN))' >$@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@

check-qemu: all helpers $(EP_QEMU_DIR)/entrypoint
	$(EP_TESTENV) EP=$(abspath $(EP_QEMU_DIR)/entrypoint) EP_QEMU=1 \
		$(PROVE) $(EP_QEMU_SH) $(EP_QEMU_PG)
