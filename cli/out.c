/*
 * out.c - how the CLI prints: times since start, signal names, JSON
 * strings, symbols, and where reports go.  trace's and watch's reports
 * never share the traced command's stdout (a pipe or file of its own
 * output): they go to stderr, as strace's and ltrace's do, or to -o FILE.
 */
#include "cli.h"
#include "view.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct timespec cli_t0;

void
cli_clock_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &cli_t0);
}

double
cli_elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - cli_t0.tv_sec) +
	    (double)(t.tv_nsec - cli_t0.tv_nsec) / 1e9;
}

const char *
cli_signame(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/*
 * The length of the well-formed UTF-8 sequence at P (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.  A NUL
 * fails the continuation test, so nothing is read past the string.
 */
int
cli_utf8_len(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	int n;

	if (c < 0x80)
		return 1;
	n = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n == 0 || p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * A JSON string, valid UTF-8 whatever bytes S holds (a path, a thread
 * name): each byte that does not belong to a well-formed sequence is
 * written as \ufffd, the replacement character (documented in dtproc(1)).
 */
void
cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int n;

		switch (*p) {
		case '"': fputs("\\\"", f); continue;
		case '\\': fputs("\\\\", f); continue;
		case '\n': fputs("\\n", f); continue;
		case '\t': fputs("\\t", f); continue;
		case '\r': fputs("\\r", f); continue;
		default:
			break;
		}
		if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p);
		} else if ((n = cli_utf8_len(p)) == 0) {
			fputs("\\ufffd", f);
		} else {
			fwrite(p, 1, (size_t)n, f);
			p += n - 1;
		}
	}
	fputc('"', f);
}

const char *
cli_sym_format(const dtproc_sym_t *sym, uintptr_t addr, char *buf,
    size_t len)
{
	/* C++ and Rust names as written, not as mangled */
	const char *name = sym == NULL ? NULL : sym->ds_demangled != NULL ?
	    sym->ds_demangled : sym->ds_name;

	if (sym == NULL || sym->ds_object == NULL)
		snprintf(buf, len, "%#lx", (unsigned long)addr);
	else if (sym->ds_name == NULL)	/* as ustack(): obj`0xADDR */
		snprintf(buf, len, "%s`%#lx", sym->ds_object,
		    (unsigned long)addr);
	else if (sym->ds_offset == 0)
		snprintf(buf, len, "%s`%s", sym->ds_object, name);
	else
		snprintf(buf, len, "%s`%s+%#lx", sym->ds_object,
		    name, (unsigned long)sym->ds_offset);
	return buf;
}

FILE *
cli_out_open(const char *sub, const char *path)
{
	FILE *f;

	if (path == NULL)
		return stderr;
	if ((f = fopen(path, "we")) == NULL)
		fprintf(stderr, "%s: %s: -o %s: %s\n", cli_progname, sub, path,
		    strerror(errno));
	return f;
}

int
cli_out_close(FILE *f, const char *sub, const char *path)
{
	int bad = f == stderr ? fflush(f) != 0 || ferror(f) :
	    (ferror(f) != 0) + (fclose(f) != 0) != 0;

	if (bad)
		fprintf(stderr, "%s: %s: cannot write %s: %s\n", cli_progname,
		    sub, path != NULL ? path : "the report to stderr",
		    strerror(errno));
	return bad ? -1 : 0;
}
