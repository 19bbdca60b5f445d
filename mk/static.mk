# The static release binary (musl); filled in by the static build work.
static:
	@echo 'make static: not yet written' >&2; exit 1
