# entrypoint: see README.md.  One GNU Makefile; `make help` lists targets.
.DELETE_ON_ERROR:
.SUFFIXES:
.PHONY: all static asan soak test check unit check-sh check-pg check-pid1 \
	check-static check-container lint cppcheck tidy shellcheck checksrc \
	hdr-check helpers deps demo bench image fuzz clean help man install

# Our own variable names start with EP_ so that sub-makes of the static
# dependencies (OpenSSL, PostgreSQL) never pick them up.
BUILD ?= build
CC ?= cc
EP_VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
EP_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

SRCS = \
	entrypoint/main.c \
	entrypoint/cmd.c \
	entrypoint/help.c \
	entrypoint/migrate.c \
	entrypoint/migsession.c \
	entrypoint/migset.c \
	entrypoint/sqlfile.c \
	entrypoint/locks.c \
	entrypoint/miglocks.c \
	entrypoint/migplan.c \
	entrypoint/layout.c \
	entrypoint/takeover.c \
	entrypoint/audit.c \
	entrypoint/history.c \
	entrypoint/pty.c \
	entrypoint/record.c \
	entrypoint/db.c \
	entrypoint/supervise.c \
	entrypoint/spawn.c \
	entrypoint/sig.c \
	entrypoint/config.c \
	entrypoint/env.c \
	entrypoint/mask.c \
	entrypoint/escape.c \
	entrypoint/log.c \
	entrypoint/util.c
HDRS = $(wildcard entrypoint/*.h)
UNIT_SRCS = $(wildcard tests/unit/t_*.c)
HELPER_SRCS = $(wildcard tests/helpers/*.c)

EP_WARN = -Wall -Wextra -pedantic -Wformat=2 -Werror=format-security \
	-Wdeclaration-after-statement -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition -Wpointer-arith \
	-Wwrite-strings -Wvla -Wshadow -Wcast-qual -fno-common \
	-Werror=implicit-function-declaration -Werror
EP_CPPFLAGS = -D_GNU_SOURCE -Ientrypoint -I/usr/include/postgresql \
	-DEP_VERSION='"$(EP_VERSION)"' -DEP_COMMIT='"$(EP_COMMIT)"'
EP_CFLAGS = -std=c99 -O2 -g $(EP_WARN)
EP_LDLIBS = -linih -lpq -lcrypto
ifdef SANITIZE
EP_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
EP_LDFLAGS += -fsanitize=address,undefined
endif

OBJS = $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS = $(filter-out $(BUILD)/obj/entrypoint/main.o,$(OBJS))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_BINS = $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/helpers/%)

all: $(BUILD)/entrypoint

$(BUILD)/entrypoint: $(OBJS)
	$(CC) $(EP_LDFLAGS) -o $@ $(OBJS) $(EP_LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(EP_CPPFLAGS) $(EP_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) tests/unit/tap.h \
		tests/unit/tfiles.h
	@mkdir -p $(@D)
	$(CC) $(EP_CPPFLAGS) $(EP_CFLAGS) -Itests/unit $(EP_LDFLAGS) -o $@ \
		$< $(LIB_OBJS) $(EP_LDLIBS)

$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -std=c99 -O2 -g -Wall -Wextra -Werror -o $@ $<

helpers: $(HELPER_BINS)

# The man page is printed by the binary from the text of `help`, so the two
# never disagree.  EP_MAN_BIN is any build that runs on this machine (the
# dev build, or build/entrypoint-static when there is no libpq-dev).
EP_MAN_BIN ?= $(BUILD)/entrypoint
man: $(BUILD)/entrypoint.1

$(BUILD)/entrypoint.1: $(EP_MAN_BIN)
	@mkdir -p $(@D)
	$(EP_MAN_BIN) help --man >$@

# make install [DESTDIR=...] [PREFIX=/usr/local] [EP_INSTALL_BIN=...]:
# the binary, the `shell` link next to it (multi-call: `shell` is
# `entrypoint shell`) and the man page.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
EP_INSTALL_BIN ?= $(BUILD)/entrypoint
install: $(EP_INSTALL_BIN) $(BUILD)/entrypoint.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(EP_INSTALL_BIN) $(DESTDIR)$(BINDIR)/entrypoint
	ln -sf entrypoint $(DESTDIR)$(BINDIR)/shell
	install -m 0644 $(BUILD)/entrypoint.1 $(DESTDIR)$(MANDIR)/man1/entrypoint.1

-include $(OBJS:.o=.d)

# --- tests -------------------------------------------------------------
# Each suite takes the binary under test in EP (default: the dev build).
# The helper programs are never sanitized: they only drive the binary, and
# the 10,000-orphan tests would spend minutes in ASan's fork hooks.
EP ?= $(abspath $(BUILD)/entrypoint)
EP_TESTENV = EP=$(EP) HELPERS=$(abspath $(BUILD)/helpers) \
	SRCDIR=$(CURDIR) BUILD=$(abspath $(BUILD))
PROVE = prove --exec bash --timer

unit: $(UNIT_BINS)
	prove --exec '' --timer $(UNIT_BINS)

check-sh: all helpers
	$(EP_TESTENV) $(PROVE) $(wildcard tests/sh/t[0-2]*.sh)

check-pid1: helpers
	$(EP_TESTENV) $(PROVE) $(wildcard tests/sh/t1*.sh)

check-pg: all helpers
	$(EP_TESTENV) $(PROVE) $(wildcard tests/pg/t*.sh)

check-container:
	$(EP_TESTENV) $(PROVE) $(wildcard tests/container/t*.sh)

# The release binary runs the PID-1 and CLI suites too.
check-static: static
	$(MAKE) check-pid1 EP=$(abspath build/entrypoint-static)
	$(MAKE) check-sh EP=$(abspath build/entrypoint-static)

asan:
	$(MAKE) BUILD=build/asan SANITIZE=1 CC=gcc all helpers

check: all helpers unit check-sh check-pg

# `make test` is what CI runs: deps, the dev build's suites, the same
# under ASan+UBSan, the static binary's suites, the release artifacts
# (make dist, the aarch64 binary under qemu-user), the image, the fuzzers'
# regression inputs and a short fuzzing run, the linters.
test: deps
	$(MAKE) check
	ASAN_OPTIONS=detect_leaks=0 $(MAKE) BUILD=build/asan SANITIZE=1 check
	$(MAKE) check-static
	$(MAKE) check-dist
	$(MAKE) check-qemu
	$(MAKE) check-container
	$(MAKE) fuzz-regress
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) lint

lint: cppcheck tidy shellcheck checksrc hdr-check

# clang-analyzer's valist.Uninitialized is off: clang 14 reports every
# va_start/vsnprintf pair on x86-64 (a known false positive).
tidy:
	clang-tidy --quiet $(SRCS) -- $(EP_CPPFLAGS) -std=c99

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --std=c99 -D_GNU_SOURCE -Ientrypoint \
		--suppress=missingIncludeSystem entrypoint tests/unit tests/helpers \
		tests/fuzz

shellcheck:
	shellcheck -x $(wildcard scripts/*.sh tests/*/*.sh bench/*.sh \
		demo/*.sh tasks/*.sh) .ci/run

checksrc:
	sh scripts/checksrc.sh

hdr-check: $(HDRS:entrypoint/%.h=$(BUILD)/hdr-check/%.o)

$(BUILD)/hdr-check/%.o: entrypoint/%.h
	@mkdir -p $(@D)
	printf '#include "%s"\n' $(<F) | $(CC) $(EP_CPPFLAGS) $(EP_CFLAGS) \
		-x c -c -o $@ -

deps:
	sh scripts/deps.sh

include mk/static.mk
include mk/dist.mk
-include mk/fuzz.mk

soak: static
	bash tests/soak/soak.sh

demo: deps all
	sh demo/demo.sh

bench: deps all static dist dist-image
	bash bench/report.sh

image:
	sh scripts/image.sh

clean:
	rm -rf build

help:
	@echo 'make            build/entrypoint (glibc dev build)'
	@echo 'make static     build/entrypoint-static (musl, fully static)'
	@echo 'make test       deps, every suite, ASan+UBSan, static, image, lint'
	@echo 'make demo       throwaway PostgreSQL, migrate, tasks, history'
	@echo 'make bench      side-by-side benchmarks (bench/)'
	@echo 'make image      the example app image (podman or docker)'
	@echo 'make dist       dist/: x86_64 and aarch64 static binaries, .debs, SHA256SUMS'
	@echo 'make dist-image entrypoint:VERSION, FROM scratch, amd64+arm64 (COPY --from)'
	@echo 'make deps       install what a fresh Debian 12 machine lacks'
	@echo 'make man        build/entrypoint.1 (the man page, from `help`)'
	@echo 'make install    binary, `shell` link, man page (DESTDIR, PREFIX)'
