#!/usr/bin/env bash
# tests/cli/exact.sh - `trace -s create` counts from the first
# instruction: the calls ld.so makes into libc before the run-time
# linker's first consistent state (__libc_early_init and what it calls)
# are counted, since an object's sites are armed once its text is mapped;
# `-s preinit` (the default) starts after them.  With perf (root), every
# libc and ld.so function's count on /bin/true is compared with a kernel
# uprobe's in the environment perf gives its children (bench/exact),
# for a score of functions on /bin/true, `sh -c 'exec ls /'`, perl and
# a dlopen victim; the whole of both objects is the bench's.
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/dtproc-exact.XXXXXX)
trap 'rm -rf "$T"' EXIT

# hits FILE PROBE: the count trace printed for PROBE, or 0
hits() {
	awk -v p="$2" '$2 == p { print $1; f = 1 } END { if (!f) print 0 }' "$1"
}

# the five libc calls ld.so makes before PREINIT, counted at -s create
EARLY="__libc_early_init __ctype_init __getrlimit __lll_elision_init __pthread_tunables_init"
args=()
for f in $EARLY; do
	args+=(-f "libc.so.6\`$f")
done
dt trace -s create "${args[@]}" -- /bin/true 2>"$T/e"
rc=$?
if [ "$rc" -ne 0 ]; then
	fail create-early "exit $rc: $(head -c 300 "$T/e")"
else
	bad=
	for f in $EARLY; do
		n=$(hits "$T/e" "libc.so.6\`$f")
		[ "$n" = 1 ] || bad="$bad $f=$n"
	done
	[ -z "$bad" ] && ok create-early || fail create-early "counts:$bad"
fi

# the same with stop probes (int3, a stop each): the same counts
dt trace -s create --stop-probes "${args[@]}" -- /bin/true 2>"$T/e"
rc=$?
bad=
for f in $EARLY; do
	n=$(hits "$T/e" "libc.so.6\`$f")
	[ "$n" = 1 ] || bad="$bad $f=$n"
done
[ "$rc" -eq 0 ] && [ -z "$bad" ] && ok create-early-int3 ||
    fail create-early-int3 "exit $rc, counts:$bad $(head -c 300 "$T/e")"

# ld.so's own first functions: _dl_start runs before any system call
dt trace -s create -f 'ld-linux-x86-64.so.2`_dl_start' \
    -f 'ld-linux-x86-64.so.2`_dl_sysdep_start' -- /bin/true 2>"$T/e"
a=$(hits "$T/e" 'ld-linux-x86-64.so.2`_dl_start')
b=$(hits "$T/e" 'ld-linux-x86-64.so.2`_dl_sysdep_start')
[ "$a" = 1 ] && [ "$b" = 1 ] && ok create-ldso-first ||
    fail create-ldso-first "_dl_start $a, _dl_sysdep_start $b: $(head -c 300 "$T/e")"

# function probes (--where: a stop each, trap sites) too, ld.so's first
dt trace -s create --where 'tid > 0' -f 'ld-linux-x86-64.so.2`_dl_start' \
    -f 'libc.so.6`__ctype_init:return' -- /bin/true 2>"$T/e"
a=$(hits "$T/e" 'ld-linux-x86-64.so.2`_dl_start')
b=$(hits "$T/e" 'libc.so.6`__ctype_init:return')
[ "$a" = 1 ] && [ "$b" = 1 ] && ok create-fprobes ||
    fail create-fprobes "_dl_start $a, __ctype_init:return $b: $(head -c 300 "$T/e")"

# what runs after PREINIT is still counted once (sites armed during the
# start-up are not armed twice by PREINIT's pass)
dt trace -s create -f 'libc.so.6`exit' -f 'libc.so.6`__libc_start_main' \
    -- /bin/true 2>"$T/e"
a=$(hits "$T/e" 'libc.so.6`exit')
b=$(hits "$T/e" 'libc.so.6`__libc_start_main')
[ "$a" = 1 ] && [ "$b" = 1 ] && ok create-later ||
    fail create-later "exit $a, __libc_start_main $b: $(head -c 300 "$T/e")"

# -s preinit (the default) starts after the run-time linker's start-up
dt trace -f 'libc.so.6`__libc_early_init' -f 'libc.so.6`exit' \
    -- /bin/true 2>"$T/e"
a=$(hits "$T/e" 'libc.so.6`__libc_early_init')
b=$(hits "$T/e" 'libc.so.6`exit')
[ "$a" = 0 ] && [ "$b" = 1 ] && ok preinit-after ||
    fail preinit-after "__libc_early_init $a, exit $b: $(head -c 300 "$T/e")"

# a probe of no object at all is still an error at -s create, once the
# start-up is over (at PREINIT)
dt trace -s create -f 'libc.so.6`no_such_function_here' -- /bin/true \
    >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 125 ] && grep -q "matches no function" "$T/e" &&
    ok create-strict || fail create-strict "exit $rc: $(head -c 300 "$T/e")"

# dlopen: the object's own code runs inside dlopen, before dlopen
# returns: its IFUNC resolver at relocation, its constructor after.  Its
# sites are armed at the run-time linker's RT_CONSISTENT, which glibc
# announces once the objects are mapped and before any is relocated, so
# exactdl_probe counts all three calls (resolver, constructor, the one
# through the IFUNC), in either mode.
DL=$BUILD/tests/victims/exactdlv
DLLIB=$(cd "$BUILD/tests/libs" && pwd)/libexactdl.so
for s in create preinit; do
	dt trace -s "$s" -Z -f 'libexactdl.so`exactdl_probe' \
	    -f 'libexactdl.so`exactdl_resolve' -f 'libexactdl.so`exactdl_init' \
	    -f 'libexactdl.so`exactdl_impl' -- "$DL" "$DLLIB" >"$T/o" 2>"$T/e"
	rc=$?
	got=
	for f in exactdl_probe exactdl_resolve exactdl_init exactdl_impl; do
		got="$got $f=$(hits "$T/e" "libexactdl.so\`$f")"
	done
	[ "$rc" -eq 0 ] && grep -q '^calls=3$' "$T/o" &&
	    [ "$got" = " exactdl_probe=3 exactdl_resolve=1 exactdl_init=1 exactdl_impl=1" ] &&
	    ok "dlopen-ctor-ifunc-$s" ||
	    fail "dlopen-ctor-ifunc-$s" "exit $rc,$got: $(head -c 300 "$T/e")"
done

# the kernel's counts (uprobes through perf, bench/exact) of the early
# calls and of ld.so's start-up, in the environment perf gives the
# command; the whole of libc and ld.so takes minutes: bench/exact.
# __strchr_evex, __strchrnul_evex and __memset_evex_unaligned_erms begin
# with an EVEX instruction, which a uprobe breaks here: the bench counts
# them past it (sh's PATH walk: strchr 100 and malloc 269 before, 112 and
# 283 as dtproc and ltrace see them).  ld.so has two check_match: summed.
K="libc.so.6\`__libc_early_init libc.so.6\`__ctype_init libc.so.6\`__getrlimit
libc.so.6\`__lll_elision_init libc.so.6\`__pthread_tunables_init
libc.so.6\`__x86_cacheinfo_ifunc libc.so.6\`__libc_start_main libc.so.6\`exit
ld-linux-x86-64.so.2\`_dl_start ld-linux-x86-64.so.2\`_dl_map_object
ld-linux-x86-64.so.2\`_dl_relocate_object ld-linux-x86-64.so.2\`_dl_debug_state
libc.so.6\`malloc libc.so.6\`free libc.so.6\`__strchr_evex
libc.so.6\`__strchrnul_evex libc.so.6\`__memset_evex_unaligned_erms
ld-linux-x86-64.so.2\`check_match"
# kernel NAME EXTRA FUNCS CMD...: bench/exact's verdict as a check
kernel() {
	local name=$1 extra=$2 funcs=$3 rc
	shift 3
	DTPROC_BUILD=$(cd "$BUILD" && pwd) FUNCS="$funcs" EXTRA="$extra" \
	    "$(dirname "$0")/../../bench/exact" "$@" >"$T/k" 2>&1
	rc=$?
	case $rc in
	0) ok "$name" ;;
	2) skip "$name" "$(tail -1 "$T/k")" ;;
	*) fail "$name" "$(grep -v '^[0-9]* functions of' "$T/k" | head -c 400)" ;;
	esac
}
kernel kernel-counts-true "" "$K" /bin/true
kernel kernel-counts-sh "" "$K" /bin/sh -c 'exec ls /'
# perl loads POSIX.so with dlopen: ld.so's dlopen path, counted the same.
# Its hash seed is random each run unless set (realloc 5327..5330 from
# run to run): both runs get the same fixed one, as they get one PATH
if ! command -v perl >/dev/null || ! perl -MPOSIX -e 1 2>/dev/null; then
	skip kernel-counts-perl "no perl with POSIX"
else
	PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 \
	    kernel kernel-counts-perl "" "$K ld-linux-x86-64.so.2\`_dl_open
ld-linux-x86-64.so.2\`_dl_catch_exception ld-linux-x86-64.so.2\`_dl_init
libc.so.6\`realloc libc.so.6\`calloc" perl -MPOSIX -e 1
fi
kernel kernel-counts-dlopen "$DLLIB" "libexactdl.so\`exactdl_probe
libexactdl.so\`exactdl_init libexactdl.so\`exactdl_impl libc.so.6\`malloc" \
    "$DL" "$DLLIB"
# dlmopen into a new namespace: a second libc, its IFUNC resolvers and
# __libc_early_init run inside the call (dl's mopen: stdin closed, it
# exits 98 after loading)
kernel kernel-counts-dlmopen "" "libc.so.6\`__libc_early_init
libc.so.6\`__ctype_init libc.so.6\`__x86_cacheinfo_ifunc libc.so.6\`malloc
libc.so.6\`__strchr_evex libc.so.6\`__init_misc
ld-linux-x86-64.so.2\`_dl_relocate_object ld-linux-x86-64.so.2\`_dl_map_object" \
    "$BUILD/tests/victims/dl" mopen \
    "$(cd "$BUILD/tests/libs" && pwd)/libdyn.so" </dev/null

summary
