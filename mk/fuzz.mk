# mk/fuzz.mk - libFuzzer targets (clang) and the suites under valgrind.
# Included by the Makefile; see docs/fuzzing.md.
#
#   make fuzz            build every target, fuzz each for FUZZ_SECONDS
#   make fuzz-regress    run each target once over its regression inputs
#                        and seeds (no fuzzing; part of the test suite)
#   make valgrind        the CLI and config suites and the unit tests under
#                        valgrind memcheck
#
# Everything the fuzzers build or write is under $(FUZZ_BUILD); the seeds
# in tests/fuzz/corpus/ and tests/fuzz/regress/ are only read.

.PHONY: fuzz fuzz-build fuzz-regress valgrind valgrind-sh valgrind-unit
# fuzz-run-NAME and fuzz-regress-NAME (pattern rules) name no file either.

FUZZ_BUILD ?= build/fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 15
FUZZ_TARGETS = config argv expand sqlfile mask escape
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# clang's -Wformat=2 also warns for a va_list passed on to vsnprintf
FUZZ_CFLAGS = -std=c99 -O1 -g $(EP_WARN) -Wno-format-nonliteral $(FUZZ_SAN)
FUZZ_SRCS = $(filter-out entrypoint/main.c,$(SRCS))
FUZZ_OBJS = $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# libFuzzer's options for every run: stderr of the code under test (our
# log lines) is closed, the crash files go to $(FUZZ_BUILD)/artifacts/.
FUZZ_OPTS = -close_fd_mask=2 -timeout=10 -rss_limit_mb=2048
FUZZ_MAXLEN_config = 12288
FUZZ_MAXLEN_argv = 4096
FUZZ_MAXLEN_expand = 4096
FUZZ_MAXLEN_sqlfile = 16384
FUZZ_MAXLEN_mask = 2048
FUZZ_MAXLEN_escape = 2048
FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(EP_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		-MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(EP_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
		$< $(FUZZ_OBJS) $(EP_LDLIBS)

-include $(FUZZ_OBJS:.o=.d)
.SECONDARY: $(FUZZ_OBJS) $(FUZZ_BINS)

fuzz-build: $(FUZZ_BINS)

# Each target starts from its seeds and regression inputs (read only) and
# keeps what it finds in $(FUZZ_BUILD)/corpus/NAME, so that the next run
# goes on from there.  A crash leaves its input in
# $(FUZZ_BUILD)/artifacts/NAME/ and fails the run.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(FUZZ_BUILD)/fuzz_%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/artifacts/$*
	@echo "fuzz_$*: $(FUZZ_SECONDS)s"
	@$(FUZZ_ENV) $< $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
		-max_len=$(FUZZ_MAXLEN_$*) -dict=tests/fuzz/$*.dict \
		-print_final_stats=1 \
		-artifact_prefix=$(abspath $(FUZZ_BUILD))/artifacts/$*/ \
		$(FUZZ_BUILD)/corpus/$* tests/fuzz/corpus/$* \
		tests/fuzz/regress/$* 2>$(FUZZ_BUILD)/fuzz_$*.log || \
		{ tail -n 60 $(FUZZ_BUILD)/fuzz_$*.log; \
		echo "fuzz_$*: FAILED, input in $(FUZZ_BUILD)/artifacts/$*/"; \
		exit 1; }
	@grep -E '^(#[0-9]+.*DONE|stat::(number_of_|average_))' \
		$(FUZZ_BUILD)/fuzz_$*.log || true

# Every regression input and seed once, as files (no fuzzing, no corpus
# written).  A failure prints the target's output, naming the input.
fuzz-regress: $(FUZZ_TARGETS:%=fuzz-regress-%)

fuzz-regress-%: $(FUZZ_BUILD)/fuzz_%
	@mkdir -p $(FUZZ_BUILD)/artifacts/$*
	@$(FUZZ_ENV) $< $(FUZZ_OPTS) \
		-artifact_prefix=$(abspath $(FUZZ_BUILD))/artifacts/$*/ \
		tests/fuzz/regress/$*/* tests/fuzz/corpus/$*/* \
		>$(FUZZ_BUILD)/regress_$*.log 2>&1 || \
		{ cat $(FUZZ_BUILD)/regress_$*.log; \
		echo "fuzz_$*: regression FAILED"; exit 1; }
	@echo "fuzz_$*: $$(grep -c '^Executed ' \
		$(FUZZ_BUILD)/regress_$*.log) inputs ok"

# --- valgrind ----------------------------------------------------------
# The dev build under memcheck: the CLI (t0*, but not t09* which is about
# the static binary), PID-1 (t1*) and config (t2*) suites with EP a wrapper
# script, and every unit test binary.  Only definite leaks and memory errors
# fail (exit 99); children are not traced.  EP_VALGRIND=1 tells a suite
# that valgrind itself shows through, so that it can skip what valgrind
# changes: the program's environment gets valgrind's LD_PRELOAD (t0300
# compares it with the child's), valgrind keeps SIGRTMAX (64) for itself
# (t1100), and a child whose execve() fails on a missing #! interpreter
# dies inside valgrind with 101 instead of returning 127 (t1000).
VG = valgrind --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --track-fds=no --trace-children=no
VG_DIR = $(BUILD)/valgrind
VG_SH = $(filter-out tests/sh/t09%,$(wildcard tests/sh/t0*.sh)) \
	$(wildcard tests/sh/t1*.sh tests/sh/t2*.sh)

$(VG_DIR)/entrypoint: $(BUILD)/entrypoint mk/fuzz.mk
	@mkdir -p $(@D)
	printf '#!/bin/sh\nexec %s "%s" "$$@"\n' '$(VG)' \
		'$(abspath $(BUILD)/entrypoint)' >$@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@

valgrind: valgrind-unit valgrind-sh

valgrind-sh: all helpers $(VG_DIR)/entrypoint
	$(EP_TESTENV) EP=$(abspath $(VG_DIR)/entrypoint) EP_VALGRIND=1 \
		$(PROVE) $(VG_SH)

valgrind-unit: $(UNIT_BINS)
	prove --exec '$(VG)' --timer $(UNIT_BINS)
