/*
 * stack.c - `dtproc stack PID`: every thread's user stack, as Solaris
 * pstack and eu-stack print them, with ustack()'s frame names.
 *
 * Public API only.  The process is grabbed (it rests, stopped, at the
 * GRAB rendezvous), each thread's pcs are collected, and it is continued
 * at once: naming the frames (symbol tables, demangling) and reading the
 * thread names happen while it runs again, so it is stopped only for the
 * register reads and the walks.  The grab is then released: the process
 * runs on as before, with no signal and no breakpoint left behind.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stack_usage[] =
"usage: dtproc stack PID [--json] [--depth N]\n"
"\n"
"Print the user stack of every thread of process PID, innermost frame\n"
"first, each frame as DTrace's ustack() names it (object`function+0xoff,\n"
"or a bare address in anonymous memory).  The process is stopped only\n"
"while its stacks are read, then runs on unharmed.\n"
"\n"
"  --json       one JSON document: {\"pid\":..,\"threads\":[{\"tid\":..,\n"
"               \"name\":..,\"frames\":[{\"pc\":\"0x..\",\"frame\":..}]}]}\n"
"  -d, --depth N  at most N frames per thread (default 64, at most 1024)\n";

typedef struct stk_thread {
	pid_t st_tid;
	int st_n;		/* frames, or -errno */
	char st_err[512];
	uintptr_t *st_pcs;
} stk_thread_t;

/*
 * Run this thread, and the control thread it is about to create, on the
 * CPU we started on.  The two never work at once (the client waits while
 * the control thread walks), and on an idle machine each hand-off to a
 * sleeping CPU costs a wake-up IPI, which on small VMs takes up to a
 * scheduler tick: most of the command's time.  Sharing one CPU makes each
 * hand-off a plain context switch.  The victim is not touched.
 */
static void
stk_pin(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void) sched_setaffinity(0, sizeof (set), &set);
}

/* Is PID gone, a zombie, or going (SIGKILL pending)? */
static int
stk_dying(pid_t pid)
{
	char path[64], line[256];
	int dying = 1;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	while (fgets(line, sizeof (line), f) != NULL) {
		unsigned long long mask;

		if (strncmp(line, "State:", 6) == 0)
			dying = strpbrk(line + 6, "ZX") != NULL;
		else if (sscanf(line, "ShdPnd: %llx", &mask) == 1 &&
		    (mask & (1ULL << (SIGKILL - 1))))
			dying = 1;
		if (dying)
			break;
	}
	(void) fclose(f);
	return dying;
}

static void
stk_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/task/%d/comm", (int)pid,
	    (int)tid);
	buf[0] = '\0';
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(buf, (int)len, f) == NULL)
			buf[0] = '\0';
		(void) fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	if (buf[0] == '\0')
		snprintf(buf, len, "?");
}

static void
stk_print(dtproc_t *dtp, dtproc_proc_t *pr, pid_t pid, stk_thread_t *th,
    int nth, int json)
{
	char name[4096], comm[64];

	if (json)
		printf("{\"pid\":%d,\"threads\":[", (int)pid);
	for (int i = 0; i < nth; i++) {
		stk_thread_t *t = &th[i];

		stk_comm(pid, t->st_tid, comm, sizeof (comm));
		if (json) {
			printf("%s{\"tid\":%d,\"name\":", i ? "," : "",
			    (int)t->st_tid);
			cli_json_str(stdout, comm);
			if (t->st_n < 0) {
				printf(",\"error\":");
				cli_json_str(stdout, t->st_err);
				printf(",\"frames\":[]}");
				continue;
			}
			printf(",\"frames\":[");
		} else {
			printf("%sthread %d (%s):\n", i ? "\n" : "",
			    (int)t->st_tid, comm);
			if (t->st_n < 0)
				printf("    (%s)\n", t->st_err);
		}
		for (int f = 0; f < t->st_n; f++) {
			if (dtproc_frame_name(dtp, pr, t->st_pcs[f], f > 0,
			    name, sizeof (name)) < 0)
				snprintf(name, sizeof (name), "0x%lx",
				    (unsigned long)t->st_pcs[f]);
			if (json) {
				printf("%s{\"pc\":\"0x%lx\",\"frame\":",
				    f ? "," : "", (unsigned long)t->st_pcs[f]);
				cli_json_str(stdout, name);
				putchar('}');
			} else {
				printf("#%-3d 0x%016lx  %s\n", f,
				    (unsigned long)t->st_pcs[f], name);
			}
		}
		if (json)
			printf("]}");
	}
	if (json)
		printf("]}\n");
}

int
cmd_stack(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "depth", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int json = 0, depth = DTPROC_STACK_DEFAULT, c, nth, rv = 0;
	cli_target_t t = { .ct_pid = 0 };
	cli_session_t sess;
	stk_thread_t *th = NULL;
	pid_t pid, *tids = NULL;
	dtproc_proc_t *pr;
	dtproc_t *dtp;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
			continue;
		}
		if (c != 'd')
			return cli_opt_other(c, stack_usage);
		errno = 0;
		depth = (int)strtol(optarg, &end, 10);
		if (errno != 0 || *end != '\0' || depth < 1 ||
		    depth > DTPROC_STACK_MAX) {
			fprintf(stderr, "%s: stack: depth must be 1 to %d: "
			    "'%s'\n", cli_progname, DTPROC_STACK_MAX, optarg);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(stack_usage, stderr);
		return 2;
	}
	if (cli_parse_pid(argv[optind], &t.ct_pid) != 0) {
		fprintf(stderr, "%s: stack: not a process id: '%s'\n",
		    cli_progname, argv[optind]);
		return 2;
	}
	stk_pin();
	if ((rv = cli_session_open(&sess, "stack", CLI_SESS_NAMED, &t)) != 0)
		return rv;
	if ((rv = cli_session_start(&sess, &t, 0)) != 0) {
		cli_session_close(&sess);
		return rv;
	}
	dtp = sess.cs_dtp;
	pr = sess.cs_proc;
	pid = sess.cs_pid;

	/* stopped from here: collect the pcs and nothing else */
	for (int max = 64;; max = nth) {
		free(tids);
		if ((tids = malloc(sizeof (*tids) * (size_t)max)) == NULL) {
			nth = -ENOMEM;
			break;
		}
		if ((nth = dtproc_threads(dtp, pr, tids, max)) <= max)
			break;
	}
	if (nth > 0 && (th = calloc((size_t)nth, sizeof (*th))) == NULL)
		nth = -ENOMEM;
	for (int i = 0; i < nth && rv == 0; i++) {
		th[i].st_tid = tids[i];
		if ((th[i].st_pcs = malloc(sizeof (uintptr_t) *
		    (size_t)depth)) == NULL) {
			th[i].st_n = -ENOMEM;
			continue;
		}
		th[i].st_n = dtproc_stack(dtp, pr, tids[i], th[i].st_pcs,
		    depth);
		if (th[i].st_n >= 0)
			continue;
		snprintf(th[i].st_err, sizeof (th[i].st_err), "%s",
		    dtproc_errmsg(dtp));
		if (dtproc_state(dtp, pr) == DTPROC_PS_DEAD ||
		    dtproc_state(dtp, pr) == DTPROC_PS_LOST ||
		    stk_dying(pid)) {
			fprintf(stderr, "%s: stack: pid %d exited while being "
			    "stacked (%s)\n", cli_progname, (int)pid,
			    th[i].st_err);
			rv = 1;
		}
	}
	if (nth < 0 && rv == 0) {
		fprintf(stderr, "%s: stack: %s\n", cli_progname,
		    nth == -ENOMEM ? "out of memory" : dtproc_errmsg(dtp));
		rv = 1;
	}
	dtproc_continue(dtp, pr);	/* it runs again */

	if (rv == 0)
		stk_print(dtp, pr, pid, th, nth, json);
	for (int i = 0; i < nth && th != NULL; i++)
		free(th[i].st_pcs);
	free(th);
	free(tids);
	cli_session_close(&sess);
	if (fflush(stdout) != 0 && rv == 0)
		rv = 1;
	return rv;
}
