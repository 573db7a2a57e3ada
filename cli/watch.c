/*
 * watch.c - `dtproc watch`: print a process's lifecycle as it happens.
 *
 * Built on the public API only, the way dtrace -c and -p sit on
 * libdtrace: the control thread reports each event through the event
 * callback and prints it (on stderr, or -o FILE: never into the traced
 * command's stdout); the main thread waits (session.c) for the
 * process's death notice, for a signal, or for the callback to say our
 * output is gone, then releases the process the reference's way.
 */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char watch_usage[] =
"usage: dtproc watch (-c 'CMD ARGS' | -p PID | -- CMD ARGS...) [-s WHEN]\n"
"                    [-o FILE] [--json]\n"
"\n"
"Print each lifecycle event of a process with the time since start:\n"
"threads created and exited, fork and vfork children, exec, signals,\n"
"job-control stops and continues, objects loaded and unloaded, the\n"
"preinit, postinit and main milestones, and the exit status or killing\n"
"signal.  Runs until the process ends or Ctrl-C, then releases it: a\n"
"command we started is killed, a grabbed process runs on unharmed.\n"
"Events go to stderr (the command's stdout stays its own) or to -o FILE.\n"
"\n"
"  -c 'CMD ARGS'  run CMD, split into words as a shell would (quotes\n"
"                 honoured, nothing expanded); exit with its status\n"
"  -p PID         grab the running process PID\n"
"  -- CMD ARGS    run CMD with ARGS as given\n"
"  -s WHEN        where a created process first stops: create (at its\n"
"                 exec, the default), preinit, postinit or main\n"
"  -o, --output FILE  write the events to FILE, not stderr\n"
"  --json         one JSON object per event per line\n"
"\n"
"Exit status: the command's (128+N if signal N killed it); 125 if dtproc\n"
"failed (usage, cannot trace, control lost), 126/127 if the command\n"
"cannot run / is not found.  With -p: 0, 1 on failure, 2 usage.\n";

typedef struct watch {
	int w_json;
	FILE *w_out;
	atomic_int w_broken;	/* our output is gone (EPIPE) */
	cli_session_t w_sess;
} watch_t;

static void
watch_head(watch_t *w, pid_t pid, pid_t tid, const char *event)
{
	if (w->w_json)
		fprintf(w->w_out, "{\"time\":%.6f,\"pid\":%d,\"tid\":%d,"
		    "\"event\":\"%s\"", cli_elapsed(), (int)pid, (int)tid,
		    event);
	else
		fprintf(w->w_out, "%10.6f %7d %-12s", cli_elapsed(), (int)tid,
		    event);
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

static void
watch_end(watch_t *w)
{
	fputs(w->w_json ? "}\n" : "\n", w->w_out);
	if (fflush(w->w_out) != 0 && !atomic_exchange(&w->w_broken, 1))
		cli_session_poke(&w->w_sess, SIGPIPE);
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

/* The event callback: runs on the control thread. */
static void
watch_event(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	static const char *const names[] = {
		[DTPROC_EV_THREAD_NEW] = "thread-new",
		[DTPROC_EV_THREAD_EXIT] = "thread-exit",
		[DTPROC_EV_FORK] = "fork",
		[DTPROC_EV_VFORK] = "vfork",
		[DTPROC_EV_VFORK_DONE] = "vfork-done",
		[DTPROC_EV_EXEC] = "exec",
		[DTPROC_EV_SIGNAL] = "signal",
		[DTPROC_EV_JOBSTOP] = "stopped",
		[DTPROC_EV_JOBCONT] = "continued",
		[DTPROC_EV_EXIT] = "exited",
		[DTPROC_EV_LOST] = "lost",
		[DTPROC_EV_PREINIT] = "preinit",
		[DTPROC_EV_POSTINIT] = "postinit",
		[DTPROC_EV_MAIN] = "main",
		[DTPROC_EV_OBJ_ADD] = "object-add",
		[DTPROC_EV_OBJ_REMOVE] = "object-remove",
	};
	watch_t *w = arg;
	char sb[512];
	dtproc_sym_t sym;

	if (atomic_load(&w->w_broken) || ev->de_kind <= 0 ||
	    (size_t)ev->de_kind >= sizeof (names) / sizeof (names[0]))
		return;
	if (ev->de_kind == DTPROC_EV_EXIT && WIFSIGNALED(ev->de_status))
		watch_head(w, dtproc_pid(pr), ev->de_tid, "killed");
	else
		watch_head(w, dtproc_pid(pr), ev->de_tid, names[ev->de_kind]);
	switch (ev->de_kind) {
	case DTPROC_EV_THREAD_NEW:
		watch_int(w, "child", "tid ", ev->de_child);
		break;
	case DTPROC_EV_FORK:
	case DTPROC_EV_VFORK:
		watch_int(w, "child", "child ", ev->de_child);
		break;
	case DTPROC_EV_THREAD_EXIT:
	case DTPROC_EV_EXIT:
		watch_status(w, ev->de_status);
		break;
	case DTPROC_EV_EXEC:
		cli_session_setid(ev->de_path);
		watch_str(w, "path", ev->de_path);
		if (ev->de_child != ev->de_tid)
			watch_int(w, "former_tid", "from thread ",
			    ev->de_child);
		break;
	case DTPROC_EV_SIGNAL:
	case DTPROC_EV_JOBSTOP:
		watch_str(w, "signal", cli_signame(ev->de_sig, sb,
		    sizeof (sb)));
		break;
	case DTPROC_EV_LOST:
		watch_str(w, "reason", "exec'd set-id or unobservable "
		    "program");
		break;
	case DTPROC_EV_MAIN:
		if (dtproc_sym_addr(dtp, pr, ev->de_addr, &sym) == 0)
			watch_str(w, "symbol", cli_sym_format(&sym,
			    ev->de_addr, sb, sizeof (sb)));
		break;
	case DTPROC_EV_OBJ_ADD:
	case DTPROC_EV_OBJ_REMOVE:
		watch_str(w, "path", ev->de_path);
		watch_int(w, "lmid", "LM", ev->de_lmid);
		break;
	default:
		break;
	}
	watch_end(w);
}

static int
watch_args(int argc, char **argv, cli_target_t *t, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, rv;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:p:s:o:h", opts, NULL)) != -1) {
		if ((rv = cli_target_opt(t, "watch", watch_usage, c, optarg)) ==
		    0)
			return 0;
		if (rv == -1)	/* j: the only one left */
			*json = 1;
	}
	return cli_target_done(t, "watch", watch_usage, argc, argv);
}

int
cmd_watch(int argc, char **argv)
{
	cli_target_t t = { .ct_stop = DTPROC_STOP_CREATE };
	watch_t w = { .w_out = NULL };
	cli_session_t *s = &w.w_sess;
	int rv, quit;

	if ((rv = watch_args(argc, argv, &t, &w.w_json)) >= 0) {
		cli_target_free(&t);
		return rv;
	}
	if ((w.w_out = cli_out_open("watch", t.ct_out)) == NULL) {
		rv = cli_target_status(&t, CLI_EXIT_FAIL);
		cli_target_free(&t);
		return rv;
	}
	if ((rv = cli_session_open(s, "watch", CLI_SESS_SIGNALS |
	    CLI_SESS_SIGPIPE, &t)) != 0) {
		(void) cli_out_close(w.w_out, "watch", t.ct_out);
		cli_target_free(&t);
		return rv;
	}
	if (w.w_out != stderr)	/* stderr is line-buffered (main.c) */
		setvbuf(w.w_out, NULL, _IOLBF, 0);
	cli_clock_start();
	dtproc_set_event(s->cs_dtp, watch_event, &w);
	if ((rv = cli_session_start(s, &t, 0)) != 0) {
		cli_session_close(s);
		(void) cli_out_close(w.w_out, "watch", t.ct_out);
		cli_target_free(&t);
		return rv;
	}
	/* the control thread rests at the rendezvous: no other printer */
	watch_head(&w, s->cs_pid, s->cs_pid, t.ct_pid ? "grabbed" : "created");
	watch_str(&w, "path", dtproc_exe(s->cs_dtp, s->cs_proc));
	if (t.ct_pid != 0)
		watch_int(&w, "threads", "threads ",
		    dtproc_nthreads(s->cs_dtp, s->cs_proc));
	watch_end(&w);
	dtproc_continue(s->cs_dtp, s->cs_proc);

	quit = cli_session_wait(s, -1);
	cli_session_release(s, quit);
	rv = cli_out_close(w.w_out, "watch", t.ct_out) != 0 &&
	    !atomic_load(&w.w_broken);
	rv = cli_session_exit(s, quit, rv);
	cli_session_close(s);
	cli_target_free(&t);
	return rv;
}
