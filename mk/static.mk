# The static release binary: build/entrypoint-static, musl-gcc, fully static,
# TLS through OpenSSL.  Included by the Makefile after SRCS, EP_CPPFLAGS and
# EP_WARN.  The dependencies (OpenSSL and libpq from Debian's source packages,
# Debian's libinih.a) are built by scripts/static-deps.sh into the ignored
# cache .cache/static/prefix; it runs with an empty environment so that no
# variable of ours (nor MAKEFLAGS) leaks into their sub-makes.
EP_SCACHE = .cache/static
EP_SPREFIX = $(EP_SCACHE)/prefix
EP_SREADY = $(EP_SPREFIX)/.ready
EP_SBUILD = build/static
EP_SBIN = build/entrypoint-static
EP_SCC = musl-gcc
# This machine's architecture: x86_64, or aarch64 (a builder stage on an
# arm64 host); mk/dist.mk cross-compiles aarch64 on x86_64.
EP_SARCH := $(shell uname -m)
# The headers come from the cache prefix, never from /usr/include/postgresql.
EP_SCPPFLAGS = $(filter-out -I/usr/include/postgresql,$(EP_CPPFLAGS)) \
	-I$(EP_SPREFIX)/include
EP_SCFLAGS = -std=c99 -Os -fstack-protector-strong \
	-ffunction-sections -fdata-sections $(EP_WARN)
# gcc's outline atomics need glibc's __getauxval, which musl lacks.
ifeq ($(EP_SARCH),aarch64)
EP_SCFLAGS += -mno-outline-atomics
endif
EP_SLDFLAGS = -static -Wl,-z,relro,-z,now -Wl,--gc-sections -s
# Link order: each library after the ones that use it.
EP_SLIBS = $(addprefix $(EP_SPREFIX)/lib/,libpq.a libpgcommon.a libpgport.a \
	libssl.a libcrypto.a libinih.a)
EP_SOBJS = $(SRCS:%.c=$(EP_SBUILD)/obj/%.o)

static: $(EP_SBIN)

$(EP_SBIN): $(EP_SOBJS) $(EP_SREADY)
	$(EP_SCC) $(EP_SLDFLAGS) -o $@ $(EP_SOBJS) $(EP_SLIBS)

# Order-only: the objects need the headers, and -MMD records them after.
$(EP_SBUILD)/obj/%.o: %.c | $(EP_SREADY)
	@mkdir -p $(@D)
	$(EP_SCC) $(EP_SCPPFLAGS) $(EP_SCFLAGS) -MMD -MP -c -o $@ $<

$(EP_SREADY): scripts/static-deps.sh
	env -i PATH="$$PATH" HOME="$$HOME" LC_ALL=C \
		sh scripts/static-deps.sh $(EP_SCACHE) $(EP_SARCH)

-include $(EP_SOBJS:.o=.d)
