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
	pid_t ct_pid;		/* -p PID, or 0 */
	char **ct_words;	/* storage of split -c words, to free */
	const char *ct_cmd;	/* -c CMD as given, or NULL */
	int ct_stop;		/* -s WHEN: DTPROC_STOP_*; preset default */
} cli_target_t;

/* words.c: split like a shell (quotes honoured, nothing expanded). */
int cli_split_words(const char *s, char ***wordsp, const char **errp);
void cli_free_words(char **words);

/*
 * target.c: parse -c/-p/-s/-- for the subcommands that run or grab.
 * cli_target_opt() takes getopt's option C: -1 if it is not one of
 * c, p, s; -2 if it was taken; else an exit status (2: usage, printed).
 * cli_target_done() after the loop: -1, or an exit status.
 */
int cli_parse_pid(const char *s, pid_t *pid);
/* An option the subcommand's own cases left: -h prints USAGE (0), any
 * other is a usage error (USAGE on stderr, 2). */
int cli_opt_other(int c, const char *usage);
/* "dtproc: SUB: " and WHAT (a format for ARG) on stderr; returns 2. */
int cli_usage_err(const char *sub, const char *what, const char *arg);
int cli_target_opt(cli_target_t *t, const char *sub, int c,
    const char *arg);
int cli_target_done(cli_target_t *t, const char *sub, const char *usage,
    int argc, char **argv);
void cli_target_free(cli_target_t *t);

/* out.c: formatting. */
const char *cli_signame(int sig, char *buf, size_t len);
void cli_json_str(FILE *f, const char *s);
double cli_elapsed(void);
void cli_clock_start(void);
/* obj`name, obj`name+0x1f, obj`0x1f (no symbol: from the bias), ADDR. */
const char *cli_sym_format(const dtproc_sym_t *sym, uintptr_t addr,
    char *buf, size_t len);

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
	bool cs_created;	/* run by us, not grabbed */
	int cs_sigfd;		/* -1 without CLI_SESS_SIGNALS */
	int cs_poke[2];		/* a callback wakes the main thread */
	int cs_state;		/* DTPROC_PS_* when released */
	int cs_status;		/* its wait status then */
} cli_session_t;

/* Signals, fds, dtproc_open(): 0, or 1 with the reason printed. */
int cli_session_open(cli_session_t *s, const char *sub, int flags);
/* Grab T's pid (FLAGS: dtproc_grab's) or run its command: 0 or 1. */
int cli_session_start(cli_session_t *s, const cli_target_t *t, int flags);
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
/* Release if still held, close everything. */
void cli_session_close(cli_session_t *s);

int cmd_watch(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_sym(int argc, char **argv);
int cmd_stack(int argc, char **argv);
int cmd_trace(int argc, char **argv);

extern const char *cli_progname;

#endif /* DTPROC_CLI_H */
