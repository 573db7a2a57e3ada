#!/usr/bin/env bash
#
# tests/run.sh BUILD - run every test: each $BUILD/tests/core/* binary
# built from a tests/core/*.c and each tests/cli/*.sh script (but lib.sh).
#
# Binaries and scripts print "ok NAME", "FAIL NAME: why", "skip NAME: why"
# lines and end with "# passed P failed F skipped S"; a script without
# that line counts as one test by its exit status (0 pass, 77 skip, else
# fail).  Each one gets $DTPROC_TEST_BINARY_TIMEOUT seconds (600).  The
# failing lines are repeated at the end, and the last line is
# "N passed, N failed" (", N skipped" when there are any).  Exit 1 if
# anything failed.
#
set -u

BUILD=${1:-build}
if [ ! -d "$BUILD" ]; then
	echo "run.sh: no build directory $BUILD" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
BUILD=$(cd "$BUILD" && pwd)
export DTPROC_BUILD=$BUILD
TESTS=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=${DTPROC_TEST_BINARY_TIMEOUT:-600}

passed=0
failed=0
skipped=0
failures=()
out=$(mktemp "${TMPDIR:-/tmp}/dtproc-run.XXXXXX")
trap 'rm -f "$out"' EXIT

# run_one NAME KIND COMMAND...: KIND is "bin" or "script".
run_one() {
	local name=$1 kind=$2 rc summary p f s line
	shift 2

	echo "# $name"
	timeout -k 10 "$TIMEOUT" "$@" </dev/null | tee "$out"
	rc=${PIPESTATUS[0]}

	while IFS= read -r line; do
		case $line in
		FAIL\ *) failures+=("$name: $line") ;;
		esac
	done <"$out"

	summary=$(grep -E '^# passed [0-9]+ failed [0-9]+ skipped [0-9]+$' \
	    "$out" | tail -n 1)
	if [ -n "$summary" ]; then
		read -r _ _ p _ f _ s <<<"$summary"
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			failed=$((failed + 1))
			failures+=("$name: FAIL $name: exit status $rc with no failure reported")
		fi
		return
	fi

	# No summary: count what it reported; a script that reported
	# nothing is one test by its exit status; dying is a failure.
	p=$(grep -c '^ok ' "$out")
	s=$(grep -c '^skip ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	passed=$((passed + p))
	skipped=$((skipped + s))
	failed=$((failed + f))
	if [ "$kind" = script ] && [ $((p + s + f)) -eq 0 ] &&
	    { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
		if [ "$rc" -eq 0 ]; then
			passed=$((passed + 1))
		else
			skipped=$((skipped + 1))
		fi
		return
	fi
	failed=$((failed + 1))
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		failures+=("$name: FAIL $name: timed out after ${TIMEOUT}s")
	else
		failures+=("$name: FAIL $name: exit status $rc without a summary line")
	fi
}

nbin=0
for t in "$BUILD"/tests/core/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	# a binary whose source is gone (renamed, split) is stale: not ours
	[ -f "$TESTS/core/$(basename "$t").c" ] || continue
	nbin=$((nbin + 1))
	run_one "core/$(basename "$t")" bin "$t"
done
if [ "$nbin" -eq 0 ]; then
	failed=$((failed + 1))
	failures+=("run.sh: FAIL core: no test binaries in $BUILD/tests/core")
fi

for t in "$TESTS"/cli/*.sh; do
	[ -f "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue
	run_one "cli/$(basename "$t")" script bash "$t"
done

if [ "${#failures[@]}" -gt 0 ]; then
	echo
	echo "Failures:"
	for line in "${failures[@]}"; do
		echo "  $line"
	done
fi
echo
result="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && result="$result, $skipped skipped"
echo "$result"
[ "$failed" -eq 0 ]
