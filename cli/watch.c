/*
 * watch.c - `dtproc watch`: print a process's lifecycle as it happens.
 *
 * The main thread owns the tracee: it creates or grabs it, then loops on
 * pt_wait(), prints each event and lets the stopped thread go.  Ctrl-C
 * reaches it through signals.c.  At the end the process is released the
 * reference's way: what we created is killed, what we grabbed runs on,
 * what job control stopped stays stopped.
 */
#include "cli.h"
#include "ptrace/pt.h"
#include "rtld/rtld.h"
#include "sym/sym.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char watch_usage[] =
"usage: dtproc watch (-c 'CMD ARGS' | -p PID | -- CMD ARGS...) [--json]\n"
"\n"
"Print each lifecycle event of a process with the time since start:\n"
"threads created and exited, fork and vfork children, exec, signals,\n"
"job-control stops and continues, and the exit status or killing signal.\n"
"Runs until the process ends or Ctrl-C, then releases it: a command we\n"
"started is killed, a grabbed process runs on unharmed.\n"
"\n"
"  -c 'CMD ARGS'  run CMD, split into words as a shell would (quotes\n"
"                 honoured, nothing expanded); exit with its status\n"
"  -p PID         grab the running process PID\n"
"  -- CMD ARGS    run CMD with ARGS as given\n"
"  --json         one JSON object per event per line\n";

typedef struct watch {
	int w_json;
	FILE *w_out;
	pt_proc_t *w_proc;
	sym_proc_t *w_sym;	/* its objects, for the agent */
	rtld_t *w_rtld;		/* the run-time-linker agent */
} watch_t;

static void
watch_head(watch_t *w, pid_t tid, const char *event)
{
	if (w->w_json) {
		fprintf(w->w_out, "{\"time\":%.6f,\"pid\":%d,\"tid\":%d,"
		    "\"event\":\"%s\"", cli_elapsed(), (int)pt_pid(w->w_proc),
		    (int)tid, event);
	} else {
		fprintf(w->w_out, "%10.6f %7d %-12s", cli_elapsed(), (int)tid,
		    event);
	}
}

static void
watch_str(watch_t *w, const char *key, const char *val)
{
	if (w->w_json) {
		fprintf(w->w_out, ",\"%s\":", key);
		cli_json_str(w->w_out, val);
	} else {
		fprintf(w->w_out, " %s", val);
	}
}

static void
watch_int(watch_t *w, const char *key, const char *text, long val)
{
	if (w->w_json)
		fprintf(w->w_out, ",\"%s\":%ld", key, val);
	else
		fprintf(w->w_out, " %s%ld", text, val);
}

static int
watch_end(watch_t *w)
{
	fputs(w->w_json ? "}\n" : "\n", w->w_out);
	return fflush(w->w_out) == 0 ? 0 : -1;
}

static void
watch_status(watch_t *w, int status)
{
	char sb[32];

	if (WIFSIGNALED(status)) {
		watch_str(w, "signal", cli_signame(WTERMSIG(status), sb,
		    sizeof (sb)));
		if (WCOREDUMP(status))
			watch_str(w, "core", w->w_json ? "dumped" :
			    "(core dumped)");
	} else {
		watch_int(w, "status", "status ", WEXITSTATUS(status));
	}
}

/* Print one event; returns -1 when our output is gone. */
static int
watch_print(watch_t *w, const pt_event_t *ev)
{
	char sb[32];

	switch (ev->pe_kind) {
	case PT_EV_THREAD_NEW:
		watch_head(w, ev->pe_tid, "thread-new");
		watch_int(w, "child", "tid ", ev->pe_child);
		break;
	case PT_EV_THREAD_EXIT:
		watch_head(w, ev->pe_tid, "thread-exit");
		watch_status(w, ev->pe_status);
		break;
	case PT_EV_FORK:
		watch_head(w, ev->pe_tid, "fork");
		watch_int(w, "child", "child ", ev->pe_child);
		break;
	case PT_EV_VFORK:
		watch_head(w, ev->pe_tid, "vfork");
		watch_int(w, "child", "child ", ev->pe_child);
		break;
	case PT_EV_VFORK_DONE:
		watch_head(w, ev->pe_tid, "vfork-done");
		break;
	case PT_EV_EXEC:
		watch_head(w, ev->pe_tid, "exec");
		watch_str(w, "path", pt_exe(w->w_proc));
		if (ev->pe_former_tid != ev->pe_tid)
			watch_int(w, "former_tid", "from thread ",
			    ev->pe_former_tid);
		break;
	case PT_EV_SIGNAL:
		watch_head(w, ev->pe_tid, "signal");
		watch_str(w, "signal", cli_signame(ev->pe_sig, sb,
		    sizeof (sb)));
		break;
	case PT_EV_JOBSTOP:
		watch_head(w, ev->pe_tid, "stopped");
		watch_str(w, "signal", cli_signame(ev->pe_sig, sb,
		    sizeof (sb)));
		break;
	case PT_EV_JOBCONT:
		watch_head(w, ev->pe_tid, "continued");
		break;
	case PT_EV_BREAKPOINT:
		watch_head(w, ev->pe_tid, "breakpoint");
		watch_int(w, "addr", "at ", (long)ev->pe_addr);
		break;
	case PT_EV_EXIT:
		watch_head(w, ev->pe_tid, WIFSIGNALED(ev->pe_status) ?
		    "killed" : "exited");
		watch_status(w, ev->pe_status);
		break;
	case PT_EV_LOST:
		watch_head(w, ev->pe_tid, "lost");
		watch_str(w, "reason", "exec'd set-id or unobservable "
		    "program");
		break;
	default:
		return 0;
	}
	return watch_end(w);
}

static int
watch_args(int argc, char **argv, cli_target_t *t, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = NULL, *err;
	int c, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cmd = optarg;
			break;
		case 'p':
			if (cli_parse_pid(optarg, &t->ct_pid) != 0) {
				fprintf(stderr, "%s: watch: invalid pid '%s'\n",
				    cli_progname, optarg);
				return 2;
			}
			break;
		case 'j':
			*json = 1;
			break;
		case 'h':
			fputs(watch_usage, stdout);
			return 0;
		default:
			fputs(watch_usage, stderr);
			return 2;
		}
	}
	if (optind < argc)
		t->ct_argv = &argv[optind];
	if ((cmd != NULL) + (t->ct_pid != 0) + (t->ct_argv != NULL) != 1) {
		fprintf(stderr, "%s: watch: give exactly one of -c CMD, -p PID "
		    "or -- CMD ARGS\n", cli_progname);
		fputs(watch_usage, stderr);
		return 2;
	}
	if (cmd != NULL) {
		if ((n = cli_split_words(cmd, &t->ct_words, &err)) < 0) {
			fprintf(stderr, "%s: watch: -c: %s\n", cli_progname,
			    err);
			return 2;
		}
		if (n == 0) {
			fprintf(stderr, "%s: watch: -c: empty command\n",
			    cli_progname);
			return 2;
		}
		t->ct_argv = t->ct_words;
	}
	return -1;
}

static int
watch_objects(watch_t *w, pid_t tid, const char *what, const rtld_obj_t *o,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		watch_head(w, tid, what);
		watch_str(w, "path", o[i].ro_path[0] ? o[i].ro_path : "a.out");
		watch_int(w, "lmid", "LM", o[i].ro_lmid);
		if (watch_end(w) != 0)
			return -1;
	}
	return 0;
}

/* One of the agent's breakpoints: say what it meant. */
static int
watch_rtld(watch_t *w, const pt_event_t *ev, rtld_ev_t *re)
{
	char buf[512];
	sym_info_t si;
	int rv = 0;

	switch (re->re_kind) {
	case RTLD_EV_PREINIT:
		watch_head(w, ev->pe_tid, "preinit");
		rv = watch_end(w);
		break;
	case RTLD_EV_ACTIVITY:
		rv = watch_objects(w, ev->pe_tid, "object-add", re->re_added,
		    re->re_nadded);
		if (rv == 0)
			rv = watch_objects(w, ev->pe_tid, "object-remove",
			    re->re_removed, re->re_nremoved);
		break;
	case RTLD_EV_MAIN:
		/* glibc runs the executable's constructors just before main */
		watch_head(w, ev->pe_tid, "postinit");
		if ((rv = watch_end(w)) != 0)
			break;
		watch_head(w, ev->pe_tid, "main");
		if (sym_lookup_addr(w->w_sym, re->re_main, &si) == 0)
			watch_str(w, "symbol", sym_format(&si, re->re_main,
			    buf, sizeof (buf)));
		rv = watch_end(w);
		break;
	default:
		break;
	}
	return rv;
}

/* The loop: print, let go, until the process is gone or we are told. */
static int
watch_loop(watch_t *w, pt_wake_t *wake)
{
	pt_proc_t *P = w->w_proc;
	pt_event_t ev;

	for (;;) {
		int r = pt_wait(P, &ev, 1);

		if (r == -EINTR) {
			if (pt_wake_pending(wake)) {
				int q = cli_signals_quit();
				pt_wake_ack(wake);
				if (q != 0)
					return q;
			}
			continue;
		}
		if (r < 0)
			return 0;	/* gone, and every event told */
		if (ev.pe_kind == PT_EV_BREAKPOINT) {
			rtld_ev_t re;
			uint8_t orig;

			if (rtld_event(w->w_rtld, &ev, &re) == 1) {
				r = watch_rtld(w, &ev, &re);
				rtld_ev_free(&re);
			} else {
				r = watch_print(w, &ev);
			}
			if (pt_bkpt_orig(P, ev.pe_addr, &orig) == 0)
				(void) pt_bkpt_step(P, ev.pe_tid);
			(void) pt_resume_thread(P, ev.pe_tid);
			if (r != 0)
				return SIGPIPE;
			continue;
		}
		if (watch_print(w, &ev) != 0)
			return SIGPIPE;
		if (ev.pe_kind == PT_EV_EXEC) {
			/* a new image: the agent starts over, as at create */
			rtld_exec(w->w_rtld);
			(void) rtld_enable(w->w_rtld, 1);
		}
		if (ev.pe_stopped)
			(void) pt_resume_thread(P, ev.pe_tid);
	}
}

int
cmd_watch(int argc, char **argv)
{
	cli_target_t t = { 0 };
	watch_t w = { .w_out = stdout };
	pt_wake_t *wake;
	sigset_t orig;
	pt_err_t err;
	int rv, quit;

	if ((rv = watch_args(argc, argv, &t, &w.w_json)) >= 0) {
		cli_target_free(&t);
		return rv;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((wake = pt_wake_init()) == NULL ||
	    cli_signals_start(wake, &orig) != 0) {
		fprintf(stderr, "%s: watch: cannot set up signal handling\n",
		    cli_progname);
		return 1;
	}
	cli_clock_start();
	if (t.ct_pid != 0)
		rv = pt_grab(t.ct_pid, 0, &w.w_proc, &err);
	else
		rv = pt_create(t.ct_argv[0], t.ct_argv, NULL, &orig, &w.w_proc,
		    &err);
	if (rv != 0) {
		fprintf(stderr, "%s: %s\n", cli_progname, err.pe_msg);
		cli_target_free(&t);
		return 1;
	}
	pt_set_wake(w.w_proc, wake);
	if ((w.w_sym = sym_proc_new(pt_pid(w.w_proc))) == NULL ||
	    (w.w_rtld = rtld_new(w.w_proc, w.w_sym)) == NULL) {
		fprintf(stderr, "%s: watch: out of memory\n", cli_progname);
		(void) pt_release(w.w_proc, PT_RELEASE_DEFAULT);
		return 1;
	}
	/* without the agent (static program) there are no milestones */
	(void) rtld_enable(w.w_rtld, t.ct_pid == 0);

	watch_head(&w, pt_pid(w.w_proc), t.ct_pid ? "grabbed" : "created");
	watch_str(&w, "path", pt_exe(w.w_proc));
	if (t.ct_pid != 0)
		watch_int(&w, "threads", "threads ", pt_nthreads(w.w_proc));
	(void) watch_end(&w);

	(void) pt_resume(w.w_proc);
	quit = watch_loop(&w, wake);

	if (quit != 0 && pt_state(w.w_proc) != PT_DEAD && !w.w_json &&
	    quit != SIGPIPE)
		fprintf(stderr, "%s: %s: releasing pid %d\n", cli_progname,
		    strsignal(quit), (int)pt_pid(w.w_proc));
	int status = pt_exit_status(w.w_proc);
	int dead = pt_state(w.w_proc) == PT_DEAD;
	(void) pt_release(w.w_proc, PT_RELEASE_DEFAULT);
	rtld_free(w.w_rtld);
	sym_proc_free(w.w_sym);
	cli_target_free(&t);

	if (quit != 0)
		return 128 + quit;
	if (t.ct_pid != 0 || !dead)
		return 0;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
}
