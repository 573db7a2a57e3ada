/*
 * symbench.c - the measuring half of bench/sym (which builds and runs it).
 *
 *   symbench load PID
 *	Cold load: grab PID read-only, walk its link maps, then time the
 *	first sym_lookup_addr() inside libc, which loads libc's table.  Run
 *	once per process, so the shared table cache is empty.
 *
 *   symbench run PID N SEED OUT
 *	N random addresses inside libc's executable mapping, looked up by
 *	address over and over for at least 1 s, then by name
 *	("libc.so.6`NAME") for at least 1 s.  Writes OUT: one line per
 *	address, "OFFSET NAME" (OFFSET = address - load bias, NAME without
 *	its @version, "??" when no symbol covers it).
 *
 *   symbench check PID FILE
 *	FILE lines "OFFSET NAME" hold addr2line's answers: compare with
 *	ours (both without @version).  A different name is an alias when
 *	libc's table has a symbol of that name at our symbol's address, a
 *	clone when ours is NAME.part.0, NAME.constprop.0... (GCC's copies),
 *	padding when no symbol of ours covers the address and it lies in a
 *	gap of under 64 bytes after NAME.  Anything else is a mismatch.
 *	Prints "diff KIND OFFSET dtproc=NAME+OFF addr2line=NAME" for each.
 *
 * Results go to stdout as "key value" lines for the script.  Exit status
 * 0, or 1 when something failed.
 */
#include "ptrace/pt.h"
#include "rtld/rtld.h"
#include "sym/sym.h"
#include "sym/sym_impl.h"	/* the table's source and size, for the report */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define LIBC	"libc.so.6"

typedef struct bench {
	pt_proc_t *b_proc;
	sym_proc_t *b_sym;
	rtld_t *b_rtld;
	uintptr_t b_tstart, b_tend;	/* libc's executable mapping */
	char b_path[4096];		/* libc's path in the victim */
} bench_t;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "symbench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static int
is_libc(const char *path)
{
	const char *s = strrchr(path, '/');

	return strcmp(s != NULL ? s + 1 : path, LIBC) == 0;
}

/* Grab PID read-only, build its object list, find libc's text mapping. */
static void
bench_open(bench_t *b, const char *pidarg)
{
	pid_t pid = (pid_t)atoi(pidarg);
	pt_map_t *maps;
	size_t nmaps;
	int rv;

	memset(b, 0, sizeof (*b));
	if (pid <= 0)
		die("invalid pid '%s'", pidarg);
	if (pt_grab(pid, PT_GRAB_RDONLY, &b->b_proc) != 0)
		die("%s", err_msg());
	if ((b->b_sym = sym_proc_new(pid)) == NULL ||
	    (b->b_rtld = rtld_new(b->b_proc, b->b_sym)) == NULL)
		die("%s", "out of memory");
	/* once, as the library's read-only grab: torn lists, the maps serve */
	rv = rtld_refresh(b->b_rtld);
	if (rv != 0 && sym_proc_update_maps(b->b_sym) != 0)
		die("pid %s: cannot read its mappings", pidarg);
	if (pt_maps_read(pid, &maps, &nmaps) != 0)
		die("pid %s: cannot read its maps", pidarg);
	for (size_t i = 0; i < nmaps; i++) {
		if ((maps[i].pm_prot & PROT_EXEC) && is_libc(maps[i].pm_path)) {
			b->b_tstart = maps[i].pm_start;
			b->b_tend = maps[i].pm_end;
			snprintf(b->b_path, sizeof (b->b_path), "%s",
			    maps[i].pm_path);
			break;
		}
	}
	pt_maps_free(maps, nmaps);
	if (b->b_tstart == 0)
		die("pid %s maps no " LIBC, pidarg);
}

static void
bench_close(bench_t *b)
{
	rtld_free(b->b_rtld);
	sym_proc_free(b->b_sym);
	(void) pt_release(b->b_proc, PT_RELEASE_DEFAULT);
}

/* libc's table as the process holds it (after a lookup loaded it). */
static const sym_file_t *
bench_libc_file(bench_t *b)
{
	for (size_t i = 0; i < b->b_sym->sp_nobj; i++) {
		const sym_obj_t *o = &b->b_sym->sp_obj[i];

		if (o->so_file != NULL && is_libc(o->so_path))
			return o->so_file;
	}
	return NULL;
}

/* NAME up to its @version, in BUF. */
static const char *
base_name(const char *name, char *buf, size_t len)
{
	if (name == NULL)
		return "??";
	snprintf(buf, len, "%.*s", (int)strcspn(name, "@"), name);
	return buf;
}

static int
cmd_load(char **argv)
{
	sym_info_t si;
	bench_t b;
	double t0, t1;
	int rv;

	bench_open(&b, argv[0]);
	uintptr_t addr = b.b_tstart + (b.b_tend - b.b_tstart) / 2;
	size_t loads = sym_cache_loads();
	t0 = now();
	rv = sym_lookup_addr(b.b_sym, addr, &si);
	t1 = now();
	const sym_file_t *F = bench_libc_file(&b);
	if (rv != 0 || F == NULL || sym_cache_loads() != loads + 1)
		die("%s", "the first lookup did not load libc's table");
	printf("load_ms %.3f\n", (t1 - t0) * 1e3);
	printf("source %s\nnsyms %zu\npath %s\n", F->sf_source, F->sf_nsyms,
	    b.b_path);
	bench_close(&b);
	return 0;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int
cmd_run(char **argv)
{
	size_t n = strtoul(argv[1], NULL, 10), nnames = 0, misses = 0;
	uint64_t seed = strtoull(argv[2], NULL, 10) | 1, sum = 0;
	uintptr_t *addrs = calloc(n, sizeof (*addrs)), bias = 0;
	char **specs = calloc(n, sizeof (*specs));
	char buf[1024];
	sym_info_t si;
	uint64_t count;
	double t0, t;
	FILE *out;
	bench_t b;

	if (n == 0 || addrs == NULL || specs == NULL)
		die("%s", "bad count or out of memory");
	bench_open(&b, argv[0]);
	for (int i = 0; i < 8; i++)
		(void) xorshift(&seed);
	for (size_t i = 0; i < n; i++)
		addrs[i] = b.b_tstart + xorshift(&seed) %
		    (b.b_tend - b.b_tstart);
	if ((out = fopen(argv[3], "w")) == NULL)
		die("cannot write %s", argv[3]);

	/* One pass untimed: loads the table, records names and offsets. */
	for (size_t i = 0; i < n; i++) {
		if (sym_lookup_addr(b.b_sym, addrs[i], &si) != 0 ||
		    !is_libc(si.sy_path))
			die("%s", "an address outside libc");
		bias = si.sy_bias;
		const char *nm = base_name(si.sy_name, buf, sizeof (buf));
		fprintf(out, "%#" PRIxPTR " %s\n", addrs[i] - bias, nm);
		if (si.sy_name == NULL) {
			misses++;
			continue;
		}
		if (asprintf(&specs[nnames++], LIBC "`%s", nm) < 0)
			die("%s", "out of memory");
	}
	if (fclose(out) != 0)
		die("cannot write %s", argv[3]);

	/* By address, round after round, for at least a second. */
	count = 0;
	t0 = now();
	do {
		for (size_t i = 0; i < n; i++) {
			sym_lookup_addr(b.b_sym, addrs[i], &si);
			sum += si.sy_addr;
		}
		count += n;
	} while ((t = now() - t0) < 1.0);
	printf("addr_lookups %" PRIu64 "\naddr_secs %.6f\n", count, t);
	printf("addr_lps %.0f\n", (double)count / t);

	/* By name: the names those addresses gave. */
	size_t fails = 0;
	for (size_t i = 0; i < nnames; i++)
		if (sym_lookup_name(b.b_sym, specs[i], &si) != 0)
			fails++;
	count = 0;
	t0 = now();
	do {
		for (size_t i = 0; i < nnames; i++) {
			sym_lookup_name(b.b_sym, specs[i], &si);
			sum += si.sy_addr;
		}
		count += nnames;
	} while ((t = now() - t0) < 1.0 && nnames > 0);
	printf("name_lookups %" PRIu64 "\nname_secs %.6f\n", count, t);
	printf("name_lps %.0f\n", (double)count / t);
	printf("names %zu\nname_fails %zu\nno_symbol %zu\n", nnames, fails,
	    misses);
	printf("bias %#" PRIxPTR "\ntext %#" PRIxPTR "-%#" PRIxPTR "\n",
	    bias, b.b_tstart, b.b_tend);
	printf("path %s\nchecksum %" PRIx64 "\n", b.b_path, sum);
	for (size_t i = 0; i < nnames; i++)
		free(specs[i]);
	free(specs);
	free(addrs);
	bench_close(&b);
	return 0;
}

/* Is NAME (with any @version) the name of an entry of F at VALUE? */
static int
named_at(const sym_file_t *F, uint64_t value, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; F != NULL && i < F->sf_nsyms; i++) {
		const sym_entry_t *e = &F->sf_syms[i];
		const char *n = F->sf_strs + e->se_name;

		if (e->se_value == value && strncmp(n, name, len) == 0 &&
		    (n[len] == '\0' || n[len] == '@'))
			return 1;
	}
	return 0;
}

/*
 * OFF, which no symbol covers, lies in a gap of less than 64 bytes
 * (alignment padding) after a symbol named NAME: 1, else 0.
 */
static int
in_padding(const sym_file_t *F, uint64_t off, const char *name)
{
	uint64_t prev = 0, next = UINT64_MAX, end = 0;

	for (size_t i = 0; F != NULL && i < F->sf_nsyms; i++) {
		uint64_t v = F->sf_syms[i].se_value;

		if (v <= off && v >= prev) {
			prev = v;
			if (v + F->sf_syms[i].se_size > end)
				end = v + F->sf_syms[i].se_size;
		} else if (v > off && v < next) {
			next = v;
		}
	}
	return prev != 0 && end <= off && next - end < 64 &&
	    named_at(F, prev, name);
}

static int
cmd_check(char **argv)
{
	char line[4096], other[2048], buf[1024];
	size_t total = 0, same = 0, alias = 0, clone = 0, pad = 0, bad = 0;
	uintptr_t bias = (uintptr_t)-1, off;
	sym_info_t si;
	FILE *in;
	bench_t b;

	bench_open(&b, argv[0]);
	if ((in = fopen(argv[1], "r")) == NULL)
		die("cannot read %s", argv[1]);
	/* libc's bias: any lookup in it says */
	if (sym_lookup_addr(b.b_sym, b.b_tstart, &si) == 0)
		bias = si.sy_bias;
	const sym_file_t *F = bench_libc_file(&b);
	while (fgets(line, sizeof (line), in) != NULL) {
		if (sscanf(line, "%" SCNxPTR " %2047s", &off, other) != 2)
			continue;
		total++;
		other[strcspn(other, "@")] = '\0';
		if (sym_lookup_addr(b.b_sym, bias + off, &si) != 0)
			si.sy_name = NULL;
		const char *ours = base_name(si.sy_name, buf, sizeof (buf));
		size_t olen = strlen(other);
		if (strcmp(ours, other) == 0) {
			same++;
			continue;
		}
		const char *kind = "mismatch";
		if (si.sy_name != NULL &&
		    named_at(F, si.sy_addr - si.sy_bias, other))
			kind = "alias", alias++; /* their name, our address */
		else if (si.sy_name != NULL &&
		    strncmp(ours, other, olen) == 0 && ours[olen] == '.')
			kind = "clone", clone++; /* NAME.part.0, .constprop.0 */
		else if (si.sy_name == NULL && strcmp(other, "??") != 0 &&
		    in_padding(F, off, other))
			kind = "padding", pad++; /* they name the one before */
		else
			bad++;
		printf("diff %s %#" PRIxPTR " dtproc=%s+%#" PRIxPTR
		    " addr2line=%s\n",
		    kind, off, ours, si.sy_name != NULL ? si.sy_offset :
		    (uintptr_t)0, other);
	}
	fclose(in);
	printf("checked %zu\nsame %zu\naliases %zu\nclones %zu\npadding %zu\n"
	    "mismatches %zu\n", total, same, alias, clone, pad, bad);
	bench_close(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		return cmd_load(argv + 2);
	if (argc == 6 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv + 2);
	if (argc == 4 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv + 2);
	fprintf(stderr, "usage: symbench load PID\n"
	    "       symbench run PID N SEED OUT\n"
	    "       symbench check PID FILE\n");
	return 2;
}
