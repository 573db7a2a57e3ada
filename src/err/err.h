/*
 * err.h - the last error of the calling thread, below every layer.
 *
 * One convention inside the library: a failing call returns a negative
 * code (an errno value, or one of dtproc.h's DTPROC_E* codes) and records
 * that code and a sentence naming the pid or file and the reason, with
 * err_set(), which returns the negative code so that failure paths read
 * `return err_set(ESRCH, "pid %d: ...", pid);`.  The record is
 * thread-local: a callback on one control thread never overwrites what
 * another thread is about to read.  Work done on a control thread for a
 * client (a request, a create or grab) hands its record back in an
 * err_rec_t (err_save() there, err_restore() in the client).
 */
#ifndef DTPROC_ERR_H
#define DTPROC_ERR_H

#include "dtproc.h"	/* DTPROC_E* codes */

#define ERR_MSG_MAX 512

/* A saved record: what a control thread hands back to its client. */
typedef struct err_rec {
	int er_code;			/* positive code, 0: none */
	char er_msg[ERR_MSG_MAX];	/* the sentence */
} err_rec_t;

/* Record ERR (positive; 0: a default reason, no failure) and a message;
 * returns -ERR. */
int err_set(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The calling thread's last code (positive, 0: none) and message. */
int err_code(void);
const char *err_msg(void);
void err_clear(void);
/* Copy the calling thread's record out, or make it the calling thread's. */
void err_save(err_rec_t *r);
void err_restore(const err_rec_t *r);

#endif /* DTPROC_ERR_H */
