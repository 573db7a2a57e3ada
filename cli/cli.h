/*
 * cli.h - the dtproc command: shared pieces of its subcommands.
 */
#ifndef DTPROC_CLI_H
#define DTPROC_CLI_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

/* How a subcommand was told what to run or grab. */
typedef struct cli_target {
	char **ct_argv;		/* -c words or the words after --; or NULL */
	pid_t ct_pid;		/* -p PID, or 0 */
	char **ct_words;	/* storage of split -c words, to free */
} cli_target_t;

/* words.c: split like a shell (quotes honoured, nothing expanded). */
int cli_split_words(const char *s, char ***wordsp, const char **errp);
void cli_free_words(char **words);

/* target.c: parse -c/-p/-- for every subcommand. */
int cli_parse_pid(const char *s, pid_t *pid);
int cli_parse_when(const char *s);
void cli_target_free(cli_target_t *t);

/* out.c: formatting. */
const char *cli_signame(int sig, char *buf, size_t len);
void cli_json_str(FILE *f, const char *s);
double cli_elapsed(void);
void cli_clock_start(void);


int cmd_watch(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_sym(int argc, char **argv);
int cmd_stack(int argc, char **argv);
int cmd_trace(int argc, char **argv);

extern const char *cli_progname;

#endif /* DTPROC_CLI_H */
