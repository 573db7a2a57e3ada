/*
 * err.c - the calling thread's last error (see err.h).
 *
 * Thread-local by design: the API's callers, its control threads and the
 * callbacks those run each see only their own last error, so no lock is
 * needed and nobody's reason is overwritten by someone else's.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread err_rec_t err_last;

int
err_set(int err, const char *fmt, ...)
{
	va_list ap;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	(void) vsnprintf(err_last.er_msg, sizeof (err_last.er_msg), fmt, ap);
	va_end(ap);
	err_last.er_code = err;
	return -err;
}

int
err_code(void)
{
	return err_last.er_code;
}

const char *
err_msg(void)
{
	return err_last.er_msg;
}

void
err_clear(void)
{
	err_last.er_code = 0;
	err_last.er_msg[0] = '\0';
}

void
err_save(err_rec_t *r)
{
	*r = err_last;
}

void
err_restore(const err_rec_t *r)
{
	err_last = *r;
}
