/*
 * out.c - how the CLI prints: times since start, signal names, JSON
 * strings, symbols.
 */
#include "cli.h"

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

void
cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

const char *
cli_sym_format(const dtproc_sym_t *sym, uintptr_t addr, char *buf,
    size_t len)
{
	const char *name;
	int n;

	if (sym == NULL || sym->ds_object == NULL) {
		snprintf(buf, len, "%#lx", (unsigned long)addr);
		return buf;
	}
	/* obj`name, obj`name+off; obj`off (from the bias) with no symbol */
	name = sym->ds_name;
	n = snprintf(buf, len, "%s`%s", sym->ds_object, name ? name : "");
	if (n >= 0 && (size_t)n < len && (name == NULL || sym->ds_offset))
		snprintf(buf + n, len - (size_t)n, "%s%#lx", name ? "+" : "",
		    (unsigned long)sym->ds_offset);
	return buf;
}
