/*
 * inspect.c - read-only views of a running process: `dtproc ldd` (as
 * Solaris pldd) and `dtproc sym`.  The process is grabbed read-only: it
 * is neither stopped nor traced, and its link maps are read while it
 * runs, retried while a dlopen is half done.
 */
#include "cli.h"
#include "ptrace/pt.h"
#include "rtld/rtld.h"
#include "sym/sym.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

typedef struct inspect {
	pt_proc_t *in_proc;
	sym_proc_t *in_sym;
	rtld_t *in_rtld;
} inspect_t;

static int
inspect_open(const char *cmd, const char *arg, inspect_t *in)
{
	pid_t pid;
	int rv;

	memset(in, 0, sizeof (*in));
	if (cli_parse_pid(arg, &pid) != 0) {
		fprintf(stderr, "%s: %s: invalid pid '%s'\n", cli_progname, cmd,
		    arg);
		return 2;
	}
	if (pt_grab(pid, PT_GRAB_RDONLY, &in->in_proc) != 0) {
		fprintf(stderr, "%s: %s\n", cli_progname, err_msg());
		return 1;
	}
	if ((in->in_sym = sym_proc_new(pid)) == NULL ||
	    (in->in_rtld = rtld_new(in->in_proc, in->in_sym)) == NULL) {
		fprintf(stderr, "%s: %s: out of memory\n", cli_progname, cmd);
		return 1;
	}
	/* a dlopen in progress leaves the lists torn: wait for it to end */
	for (int i = 0; i < 1000; i++) {
		if ((rv = rtld_refresh(in->in_rtld)) != -EAGAIN)
			break;
		sched_yield();
	}
	if (rv != 0 && sym_proc_update_maps(in->in_sym) != 0) {
		fprintf(stderr, "%s: %s: pid %d: cannot read its mappings\n",
		    cli_progname, cmd, (int)pid);
		return 1;
	}
	return -1;
}

static void
inspect_close(inspect_t *in)
{
	rtld_free(in->in_rtld);
	sym_proc_free(in->in_sym);
	if (in->in_proc != NULL)
		(void) pt_release(in->in_proc, PT_RELEASE_DEFAULT);
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
	sym_objinfo_t oi;
	inspect_t in;
	int c, json = 0, rv;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			fputs(ldd_usage, stdout);
			return 0;
		} else {
			fputs(ldd_usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(ldd_usage, stderr);
		return 2;
	}
	if ((rv = inspect_open("ldd", argv[optind], &in)) >= 0) {
		inspect_close(&in);
		return rv;
	}
	if (json)
		printf("{\"pid\":%d,\"objects\":[", (int)pt_pid(in.in_proc));
	else
		printf("%d:\t%s\n", (int)pt_pid(in.in_proc),
		    pt_exe(in.in_proc));
	for (size_t i = 0; sym_object(in.in_sym, i, &oi) == 0; i++) {
		if (json) {
			printf("%s{\"lmid\":%d,\"base\":\"%#lx\",\"bias\":"
			    "\"%#lx\",\"path\":", i ? "," : "", oi.so_lmid,
			    (unsigned long)oi.so_start,
			    (unsigned long)oi.so_bias);
			cli_json_str(stdout, oi.so_path);
			putchar('}');
		} else {
			printf("LM%d\t%#014lx\t%s\n", oi.so_lmid,
			    (unsigned long)oi.so_start, oi.so_path);
		}
	}
	if (json)
		printf("]}\n");
	inspect_close(&in);
	return 0;
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
		sym_info_t si;
		uintptr_t addr;

		if (sym_is_address(argv[i], &addr)) {
			if (sym_lookup_addr(in.in_sym, addr, &si) != 0) {
				fprintf(stderr, "%s: sym: pid %d: address %s "
				    "is not mapped\n", cli_progname,
				    (int)pt_pid(in.in_proc), argv[i]);
				bad = 1;
				continue;
			}
			printf("%#lx\t%s\n", (unsigned long)addr,
			    sym_format(&si, addr, buf, sizeof (buf)));
			continue;
		}
		if (sym_lookup_name(in.in_sym, argv[i], &si) != 0) {
			fprintf(stderr, "%s: sym: %s\n", cli_progname,
			    err_msg());
			bad = 1;
			continue;
		}
		if (si.sy_lmid != 0)
			printf("%#lx\tLM%d`%s`%s\tsize %lu\n",
			    (unsigned long)si.sy_addr, si.sy_lmid,
			    si.sy_object, si.sy_name,
			    (unsigned long)si.sy_size);
		else
			printf("%#lx\t%s`%s\tsize %lu\n",
			    (unsigned long)si.sy_addr, si.sy_object,
			    si.sy_name, (unsigned long)si.sy_size);
	}
	inspect_close(&in);
	return bad;
}
