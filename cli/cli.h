/*
 * cli.h - the dtproc command: shared pieces of its subcommands.  Every
 * file of cli/ is built on the public header alone (no -Isrc).
 */
#ifndef DTPROC_CLI_H
#define DTPROC_CLI_H

#include "dtproc.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* How a subcommand was told what to run or grab. */
typedef struct cli_target {
	char **ct_argv;		/* -c words or the words after --; or NULL */
	pid_t ct_pid;		/* -p PID, or 0 (the first of ct_pids) */
	pid_t *ct_pids;		/* every -p, in order, duplicates dropped */
	int ct_npids;
	bool ct_multi;		/* set before parsing: -p may repeat and
				   take comma lists (trace) */
	char **ct_words;	/* storage of split -c words, to free */
	const char *ct_cmd;	/* -c CMD as given, or NULL */
	int ct_stop;		/* -s WHEN: DTPROC_STOP_*; preset default */
	bool ct_stop_set;	/* -s was given */
	int ct_err;		/* the first usage error's class, or 0 */
	const char *ct_out;	/* -o FILE, or NULL: stderr */
} cli_target_t;

/*
 * Exit statuses, one table for every subcommand (dtproc(1), EXIT
 * STATUS).  With a command (-c, --) dtproc's own failures must not pass
 * for the command's status, so they are GNU timeout's and env's: 125
 * for dtproc's failure (usage, cannot trace, control lost), 126 for a
 * command found but not runnable, 127 for one not found, 124 when -d
 * ended it.  Without one (-p, ldd, sym, stack): 0, 1, 2.
 */
#define CLI_EXIT_FAIL		1	/* without a command: failure */
#define CLI_EXIT_USAGE		2	/* without a command: usage error */
#define CLI_EXIT_TIMEOUT	124	/* -d ended the command */
#define CLI_EXIT_OWN		125	/* with a command: dtproc failed */
#define CLI_EXIT_NOEXEC		126	/* the command cannot run */
#define CLI_EXIT_NOTFOUND	127	/* the command was not found */

/* words.c: split like a shell (quotes honoured, nothing expanded). */
int cli_split_words(const char *s, char ***wordsp, const char **errp);
void cli_free_words(char **words);

/*
 * target.c: parse -c/-p/-s/-o/-h/-- for the subcommands that run or
 * grab.  cli_target_opt() takes getopt's option C: -1 if it is not one
 * of these; -2 if it was taken (a usage error is recorded in ct_err and
 * reported if first); 0 after -h (the usage printed).
 * cli_target_done() after the loop: -1, or the exit status.
 */
int cli_parse_pid(const char *s, pid_t *pid);
/* An option ldd, sym or stack do not know: -h prints USAGE (0), any
 * other is a usage error (USAGE on stderr, 2). */
int cli_opt_other(int c, const char *usage);
/* "dtproc: SUB: " and WHAT (a format for ARG) on stderr; returns 2. */
int cli_usage_err(const char *sub, const char *what, const char *arg);
/* Record a usage error (reported if it is the first); returns -2. */
int cli_target_usage(cli_target_t *t, const char *sub, const char *what,
    const char *arg);
/* The exit status for a failure of CLASS (1, 2): 125 with a command. */
int cli_target_status(const cli_target_t *t, int class);
int cli_target_opt(cli_target_t *t, const char *sub, const char *usage,
    int c, const char *arg);
int cli_target_done(cli_target_t *t, const char *sub, const char *usage,
    int argc, char **argv);
void cli_target_free(cli_target_t *t);

/* out.c: formatting. */
const char *cli_signame(int sig, char *buf, size_t len);
void cli_json_str(FILE *f, const char *s);
double cli_elapsed(void);
void cli_clock_start(void);
/* As ustack(): obj`name, obj`name+0x1f, obj`0xADDR (no symbol), 0xADDR. */
const char *cli_sym_format(const dtproc_sym_t *sym, uintptr_t addr,
    char *buf, size_t len);
/* -o PATH (created or truncated), or stderr if NULL; NULL: printed why. */
FILE *cli_out_open(const char *sub, const char *path);
/* Flush (and close, but stderr) the report: 0, or -1 with why printed. */
int cli_out_close(FILE *f, const char *sub, const char *path);

/*
 * session.c: what trace, watch and stack share: the library handle, the
 * process run or grabbed, the signals that end a session (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, taken through a signalfd so none is lost),
 * the wait on the notification fd, and the end as an exit status.
 */
#define CLI_SESS_SIGNALS	0x1	/* the signals above end the wait */
#define CLI_SESS_SIGPIPE	0x2	/* and SIGPIPE is ours (EPIPE) */
#define CLI_SESS_NAMED		0x4	/* errors name the subcommand */

typedef struct cli_session {
	const char *cs_sub;	/* subcommand, for messages */
	int cs_flags;		/* CLI_SESS_* */
	dtproc_t *cs_dtp;
	dtproc_proc_t *cs_proc;	/* until released */
	pid_t cs_pid;
	bool cs_created;	/* a command run by us, not grabbed */
	int cs_sigfd;		/* -1 without CLI_SESS_SIGNALS */
	int cs_poke[2];		/* a callback wakes the main thread */
	int cs_state;		/* DTPROC_PS_* when released */
	int cs_status;		/* its wait status then */
	/* a notice about another process than cs_proc (trace -F) */
	void (*cs_other)(void *arg, dtproc_proc_t *pr);
	void *cs_other_arg;
	bool cs_ended;		/* a notice said cs_proc ended */
} cli_session_t;

/* Signals, fds, dtproc_open() for target T: 0, or the exit status
 * with the reason printed. */
int cli_session_open(cli_session_t *s, const char *sub, int flags,
    const cli_target_t *t);
/* Grab T's pid (FLAGS: dtproc_grab's) or run its command: 0, or the
 * exit status (125, 126, 127, 128+N with a command; 1 for a grab). */
int cli_session_start(cli_session_t *s, const cli_target_t *t, int flags);
/* dtproc's own failure as the exit status: 125 with a command, else 1. */
int cli_session_fail(const cli_session_t *s);
/* PATH was exec'd: say so if it is set-id and runs without privileges. */
void cli_session_setid(const char *path);
/* From a callback: wake the wait; QUIT nonzero ends it with QUIT. */
void cli_session_poke(cli_session_t *s, int quit);
/*
 * Until the process is gone (0), a signal came (its number), a poke said
 * to quit (its value) or SECS passed (-1; SECS < 0: no limit).
 */
int cli_session_wait(cli_session_t *s, double secs);
/* Release the process (saying so when QUIT, a signal, ends it early). */
void cli_session_release(cli_session_t *s, int quit);
/* A created process's exit as ours (128 + signal), else 0. */
int cli_session_status(const cli_session_t *s);
/* The end of the run as the exit status (the lost message printed);
 * QUIT: cli_session_wait's answer; OUTERR: the report was not written. */
int cli_session_exit(const cli_session_t *s, int quit, bool outerr);
/* Release if still held, close everything. */
void cli_session_close(cli_session_t *s);

int cmd_watch(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_sym(int argc, char **argv);
int cmd_stack(int argc, char **argv);
int cmd_trace(int argc, char **argv);

extern const char *cli_progname;

#endif /* DTPROC_CLI_H */
