# The example app's release image: entrypoint (static, musl) as ENTRYPOINT
# and PID 1, the app (python3 + psycopg2), its migrations, tasks and config.
#
#   podman build --network=host --build-arg RELEASE=v1.2.3 -t myapp:v1.2.3 .
#   podman run --rm --network=host -e DATABASE_URL=... myapp:v1.2.3 migrate
#   podman run -d  --network=host -e DATABASE_URL=... myapp:v1.2.3          (web)
#
# `make image` (scripts/image.sh) builds it; the tests build the same file
# with the builder stage swapped for an already built binary (EP_BINARY).

# --- builder: begin ----------------------------------------------------
# Stage 1: build/entrypoint-static with `make static`, exactly as on a
# developer machine: OpenSSL and libpq from Debian's source packages with
# musl-gcc (apt-get source needs the deb-src entries added here), then our
# binary, statically linked.
FROM debian:bookworm-slim AS builder
ENV DEBIAN_FRONTEND=noninteractive
RUN set -eu; \
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then \
		sed -i 's/^Types: deb$/Types: deb deb-src/' \
			/etc/apt/sources.list.d/debian.sources; \
	fi; \
	if [ -f /etc/apt/sources.list ]; then \
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
			>/etc/apt/sources.list.d/deb-src.list; \
	fi; \
	apt-get update -qq; \
	apt-get install -y -qq --no-install-recommends \
		build-essential dpkg-dev musl-tools libinih-dev perl \
		xz-utils ca-certificates file >/dev/null; \
	rm -rf /var/cache/apt/archives/*.deb
WORKDIR /src
# The static dependencies (OpenSSL and libpq from source, into the cache
# mk/static.mk uses) change rarely: their own layer, rebuilt only when the
# script that builds them changes.  `make static` below finds them ready
# (and would build them itself if the cache path ever moved).
COPY scripts/static-deps.sh scripts/
RUN sh scripts/static-deps.sh .cache/static
COPY Makefile VERSION ./
COPY mk/ mk/
COPY scripts/ scripts/
COPY entrypoint/ entrypoint/
ARG COMMIT=unknown
RUN make static EP_COMMIT="$COMMIT" && \
	file build/entrypoint-static | grep -q 'statically linked'
# --- builder: end ------------------------------------------------------

# Stage 2: the app image.  Runtime packages only; no compiler, no shell
# needed by entrypoint itself (the app's tasks are python3).
FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN set -eu; \
	apt-get update -qq; \
	apt-get install -y -qq --no-install-recommends \
		python3 python3-psycopg2 >/dev/null; \
	rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb; \
	groupadd --system --gid 10001 app; \
	useradd --system --uid 10001 --gid app --home-dir /app \
		--no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /src/build/entrypoint-static /usr/local/bin/entrypoint
RUN ln -s entrypoint /usr/local/bin/shell && mkdir -p /usr/local/share/man/man1 && entrypoint help --man >/usr/local/share/man/man1/entrypoint.1
WORKDIR /app
# Owned by root, read-only for the app: the release is immutable.
COPY entrypoint.ini ./
COPY migrations/ migrations/
COPY tasks/ tasks/
COPY app/ app/
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Last, so a new release id reuses every layer above.
ARG RELEASE=dev
ENV RELEASE=$RELEASE
LABEL org.opencontainers.image.title="entrypoint-demo" \
	org.opencontainers.image.version="$RELEASE"
USER app
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["entrypoint"]
CMD ["web"]
