/*
 * victim.h - shared bits of the test victims (header only: each victim is
 * a single .c file built on its own).
 *
 * Protocol: a victim prints lines to stdout (line-buffered, so each line
 * reaches the test as soon as it is printed), the first one usually
 * "ready <pid> key=value...", and where it needs the test to act first it
 * blocks reading a "g" line from stdin.  Victims never sleep to
 * synchronize.
 */
#ifndef DTPROC_VICTIM_H
#define DTPROC_VICTIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void
v_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((noreturn)) static inline void
v_die(const char *what)
{
	fprintf(stderr, "victim %d: %s: %s\n", (int)getpid(), what,
	    strerror(errno));
	exit(111);
}

/*
 * Read one line from fd 0, byte by byte so that nothing past the newline
 * is consumed (a child sharing our stdin reads the next line).  Returns
 * the line length, or -1 at EOF/error before any newline.
 */
static inline int
v_getline(char *buf, size_t n)
{
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t r = read(0, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (len + 1 < n)
			buf[len++] = c;
	}
	buf[len] = '\0';
	return (int)len;
}

/* Block until the test writes a line ("g"); -1 at EOF. */
static inline int
v_wait_go(void)
{
	char buf[64];

	return v_getline(buf, sizeof (buf)) < 0 ? -1 : 0;
}

#endif /* DTPROC_VICTIM_H */
