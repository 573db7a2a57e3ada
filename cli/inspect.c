/*
 * inspect.c - read-only views of a running process: `dtproc ldd` (as
 * Solaris pldd) and `dtproc sym`, on the public API: a read-only grab
 * (DTPROC_GRAB_RDONLY: the process is neither stopped nor traced; the
 * library reads its link maps while it runs, and falls back on its
 * mappings while a dlopen is half done) and the symbol calls.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

typedef struct inspect {
	dtproc_t *in_dtp;
	dtproc_proc_t *in_proc;
	pid_t in_pid;
} inspect_t;

/*
 * A look is not a grab: the library's "failed to grab pid N: REASON" is
 * said as the reason alone, after "cannot read pid N".
 */
static const char *
inspect_reason(const char *msg)
{
	const char *p;

	if (strncmp(msg, "failed to grab pid ", 19) == 0 &&
	    (p = strstr(msg + 19, ": ")) != NULL)
		return p + 2;
	return msg;
}

/* -1 with the process grabbed, or an exit status (the reason printed). */
static int
inspect_open(const char *cmd, const char *arg, inspect_t *in)
{
	int err;

	memset(in, 0, sizeof (*in));
	if (cli_parse_pid(arg, &in->in_pid) != 0) {
		fprintf(stderr, "%s: %s: invalid pid '%s'\n", cli_progname, cmd,
		    arg);
		return 2;
	}
	if ((in->in_dtp = dtproc_open(0, &err)) == NULL) {
		fprintf(stderr, "%s: %s: cannot set up: %s\n", cli_progname,
		    cmd, strerror(err));
		return 1;
	}
	in->in_proc = dtproc_grab(in->in_dtp, in->in_pid, DTPROC_GRAB_RDONLY);
	if (in->in_proc == NULL) {
		fprintf(stderr, "%s: %s: cannot read pid %d: %s\n",
		    cli_progname, cmd, (int)in->in_pid,
		    inspect_reason(dtproc_errmsg(in->in_dtp)));
		return CLI_EXIT_FAIL;
	}
	return -1;
}

static void
inspect_close(inspect_t *in)
{
	if (in->in_proc != NULL)
		dtproc_release(in->in_dtp, in->in_proc);
	if (in->in_dtp != NULL)
		dtproc_close(in->in_dtp);
	memset(in, 0, sizeof (*in));
}

/* The objects, kept: the walk holds the handle's lock. */
typedef struct ldd_obj {
	char *lo_path;
	uintptr_t lo_base;
	int lo_lmid;
} ldd_obj_t;

typedef struct ldd_list {
	ldd_obj_t *ll_obj;
	size_t ll_n;
} ldd_list_t;

static int
ldd_one(const char *path, uintptr_t base, int lmid, void *arg)
{
	ldd_list_t *l = arg;
	ldd_obj_t *v = realloc(l->ll_obj, (l->ll_n + 1) * sizeof (*v));

	if (v == NULL)
		return -ENOMEM;
	l->ll_obj = v;
	if ((v[l->ll_n].lo_path = strdup(path)) == NULL)
		return -ENOMEM;
	v[l->ll_n].lo_base = base;
	v[l->ll_n].lo_lmid = lmid;
	l->ll_n++;
	return 0;
}

static const char ldd_usage[] =
"usage: dtproc ldd PID [--json]\n"
"\n"
"List the objects of a running process in load order, as the run-time\n"
"linker's link maps give them: namespace (LM0 is the base, dlmopen\n"
"namespaces follow), the address it is mapped at, and its path.  The\n"
"process is not stopped.\n";

int
cmd_ldd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	ldd_list_t l = { NULL, 0 };
	inspect_t in;
	int c, json = 0, rv;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_opt_other(c, ldd_usage);
		json = 1;
	}
	if (optind != argc - 1) {
		fputs(ldd_usage, stderr);
		return 2;
	}
	if ((rv = inspect_open("ldd", argv[optind], &in)) >= 0) {
		inspect_close(&in);
		return rv;
	}
	if ((rv = dtproc_obj_iter(in.in_dtp, in.in_proc, ldd_one, &l)) != 0) {
		fprintf(stderr, "%s: ldd: pid %d: %s\n", cli_progname,
		    (int)in.in_pid, rv == -ENOMEM ? "out of memory" :
		    dtproc_errmsg(in.in_dtp));
		rv = 1;
	} else if (json) {
		printf("{\"pid\":%d,\"objects\":[", (int)in.in_pid);
		for (size_t i = 0; i < l.ll_n; i++) {
			uintptr_t bias = l.ll_obj[i].lo_base;

			(void) dtproc_obj_bias(in.in_dtp, in.in_proc,
			    l.ll_obj[i].lo_base, &bias);
			printf("%s{\"lmid\":%d,\"base\":\"%#lx\",\"bias\":"
			    "\"%#lx\",\"path\":", i ? "," : "",
			    l.ll_obj[i].lo_lmid,
			    (unsigned long)l.ll_obj[i].lo_base,
			    (unsigned long)bias);
			cli_json_str(stdout, l.ll_obj[i].lo_path);
			putchar('}');
		}
		printf("]}\n");
	} else {
		printf("%d:\t%s\n", (int)in.in_pid,
		    dtproc_exe(in.in_dtp, in.in_proc));
		for (size_t i = 0; i < l.ll_n; i++)
			printf("LM%d\t%#014lx\t%s\n", l.ll_obj[i].lo_lmid,
			    (unsigned long)l.ll_obj[i].lo_base,
			    l.ll_obj[i].lo_path);
	}
	for (size_t i = 0; i < l.ll_n; i++)
		free(l.ll_obj[i].lo_path);
	free(l.ll_obj);
	inspect_close(&in);
	return rv;
}

static const char sym_usage[] =
"usage: dtproc sym PID NAME|ADDRESS...\n"
"\n"
"Resolve each argument in a running process, one line each, either way:\n"
"a NAME ([LMn`][OBJECT`]FUNCTION, OBJECT being a.out, a basename, the\n"
"basename up to its first dot, or a path) gives its address and size;\n"
"an ADDRESS (0x... or decimal) gives object`symbol+offset.\n";

static int
sym_is_address(const char *s, uintptr_t *addr)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return 0;
	*addr = (uintptr_t)v;
	return 1;
}

int
cmd_sym(int argc, char **argv)
{
	char buf[1024];
	inspect_t in;
	int rv, bad = 0;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		fputs(sym_usage, stdout);
		return 0;
	}
	if (argc < 3) {
		fputs(sym_usage, stderr);
		return 2;
	}
	if ((rv = inspect_open("sym", argv[1], &in)) >= 0) {
		inspect_close(&in);
		return rv;
	}
	for (int i = 2; i < argc; i++) {
		dtproc_sym_t sym;
		uintptr_t addr;

		if (sym_is_address(argv[i], &addr)) {
			if (dtproc_sym_addr(in.in_dtp, in.in_proc, addr,
			    &sym) != 0) {
				fprintf(stderr, "%s: sym: pid %d: address %s "
				    "is not mapped\n", cli_progname,
				    (int)in.in_pid, argv[i]);
				bad = 1;
				continue;
			}
			printf("%#lx\t%s\n", (unsigned long)addr,
			    cli_sym_format(&sym, addr, buf, sizeof (buf)));
			continue;
		}
		if (dtproc_sym_lookup(in.in_dtp, in.in_proc, argv[i],
		    &sym) != 0) {
			fprintf(stderr, "%s: sym: %s\n", cli_progname,
			    dtproc_errmsg(in.in_dtp));
			bad = 1;
			continue;
		}
		/* C++ and Rust names demangled */
		const char *nm = sym.ds_demangled != NULL ? sym.ds_demangled :
		    sym.ds_name;
		if (sym.ds_lmid != 0)
			printf("%#lx\tLM%d`%s`%s\tsize %lu\n",
			    (unsigned long)sym.ds_addr, sym.ds_lmid,
			    sym.ds_object, nm, (unsigned long)sym.ds_size);
		else
			printf("%#lx\t%s`%s\tsize %lu\n",
			    (unsigned long)sym.ds_addr, sym.ds_object, nm,
			    (unsigned long)sym.ds_size);
	}
	inspect_close(&in);
	return bad;
}
