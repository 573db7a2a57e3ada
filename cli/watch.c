/*
 * watch.c - `dtproc watch`: print a process's lifecycle as it happens.
 *
 * Built on the public API only, the way dtrace -c and -p sit on
 * libdtrace: the control thread reports each event through the event
 * callback and prints it; the main thread waits for the process's death
 * notice or for a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT through a
 * signalfd, never lost), then releases the process the reference's way:
 * what we created is killed, what we grabbed runs on, what job control
 * stopped stays stopped.
 */
#include "cli.h"
#include "dtproc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static const char watch_usage[] =
"usage: dtproc watch (-c 'CMD ARGS' | -p PID | -- CMD ARGS...) [-s WHEN]\n"
"                    [--json]\n"
"\n"
"Print each lifecycle event of a process with the time since start:\n"
"threads created and exited, fork and vfork children, exec, signals,\n"
"job-control stops and continues, objects loaded and unloaded, the\n"
"preinit, postinit and main milestones, and the exit status or killing\n"
"signal.  Runs until the process ends or Ctrl-C, then releases it: a\n"
"command we started is killed, a grabbed process runs on unharmed.\n"
"\n"
"  -c 'CMD ARGS'  run CMD, split into words as a shell would (quotes\n"
"                 honoured, nothing expanded); exit with its status\n"
"  -p PID         grab the running process PID\n"
"  -- CMD ARGS    run CMD with ARGS as given\n"
"  -s WHEN        where a created process first stops: create (at its\n"
"                 exec, the default), preinit, postinit or main\n"
"  --json         one JSON object per event per line\n";

typedef struct watch {
	int w_json;
	FILE *w_out;
	dtproc_proc_t *w_proc;
	atomic_int w_broken;	/* our output is gone (EPIPE) */
	int w_poke[2];		/* the callback wakes the main thread */
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
		(void) write(w->w_poke[1], "x", 1);
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
		if (dtproc_sym_addr(dtp, pr, ev->de_addr, &sym) == 0) {
			if (sym.ds_name != NULL && sym.ds_offset == 0)
				snprintf(sb, sizeof (sb), "%s`%s",
				    sym.ds_object, sym.ds_name);
			else if (sym.ds_name != NULL)
				snprintf(sb, sizeof (sb), "%s`%s+%#lx",
				    sym.ds_object, sym.ds_name,
				    (unsigned long)sym.ds_offset);
			else
				snprintf(sb, sizeof (sb), "%s`%#lx",
				    sym.ds_object,
				    (unsigned long)sym.ds_offset);
			watch_str(w, "symbol", sb);
		}
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
watch_args(int argc, char **argv, cli_target_t *t, int *json, int *stop)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = NULL, *err;
	int c, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:p:s:h", opts, NULL)) != -1) {
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
		case 's':
			if ((*stop = cli_parse_when(optarg)) < 0) {
				fprintf(stderr, "%s: watch: -s: '%s' is not "
				    "create, preinit, postinit or main\n",
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

/* Until the process is gone (0) or a signal came (its number). */
static int
watch_wait(dtproc_t *dtp, watch_t *w, int sigfd)
{
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = dtproc_notify_fd(dtp), .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = w->w_poke[0], .events = POLLIN },
		};
		struct signalfd_siginfo si;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return SIGTERM;
		}
		if (p[1].revents & POLLIN &&
		    read(sigfd, &si, sizeof (si)) == sizeof (si))
			return (int)si.ssi_signo;
		if (p[2].revents & POLLIN)
			return SIGPIPE;
		if ((p[0].revents & POLLIN) &&
		    dtproc_handle_notify(dtp, NULL, NULL) > 0)
			return 0;
	}
}

int
cmd_watch(int argc, char **argv)
{
	cli_target_t t = { 0 };
	watch_t w = { .w_out = stdout, .w_poke = { -1, -1 } };
	int rv, quit, stop = DTPROC_STOP_CREATE, sigfd, err;
	sigset_t set;
	dtproc_t *dtp;

	if ((rv = watch_args(argc, argv, &t, &w.w_json, &stop)) >= 0) {
		cli_target_free(&t);
		return rv;
	}
	/* ours alone: the control threads block them, and the created
	 * program is given an empty mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGPIPE);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
	    pipe2(w.w_poke, O_CLOEXEC) != 0 ||
	    (dtp = dtproc_open(0, &err)) == NULL) {
		fprintf(stderr, "%s: watch: cannot set up: %s\n", cli_progname,
		    strerror(errno));
		cli_target_free(&t);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	cli_clock_start();
	dtproc_set_event(dtp, watch_event, &w);
	if (t.ct_pid != 0)
		w.w_proc = dtproc_grab(dtp, t.ct_pid, 0);
	else
		w.w_proc = dtproc_create(dtp, t.ct_argv[0], t.ct_argv, stop);
	if (w.w_proc == NULL) {
		fprintf(stderr, "%s: %s\n", cli_progname, dtproc_errmsg(dtp));
		dtproc_close(dtp);
		cli_target_free(&t);
		return 1;
	}
	/* the control thread rests at the rendezvous: no other printer */
	watch_head(&w, dtproc_pid(w.w_proc), dtproc_pid(w.w_proc),
	    t.ct_pid ? "grabbed" : "created");
	watch_str(&w, "path", dtproc_exe(dtp, w.w_proc));
	if (t.ct_pid != 0)
		watch_int(&w, "threads", "threads ",
		    dtproc_nthreads(dtp, w.w_proc));
	watch_end(&w);
	dtproc_continue(dtp, w.w_proc);

	quit = watch_wait(dtp, &w, sigfd);

	int state = dtproc_state(dtp, w.w_proc);
	int status = dtproc_status(dtp, w.w_proc);
	if (quit != 0 && quit != SIGPIPE && state != DTPROC_PS_DEAD)
		fprintf(stderr, "%s: %s: releasing pid %d\n", cli_progname,
		    strsignal(quit), (int)dtproc_pid(w.w_proc));
	dtproc_release(dtp, w.w_proc);
	dtproc_close(dtp);
	close(sigfd);
	close(w.w_poke[0]);
	close(w.w_poke[1]);
	cli_target_free(&t);

	if (quit != 0)
		return 128 + quit;
	if (t.ct_pid != 0 || state != DTPROC_PS_DEAD)
		return 0;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
}
