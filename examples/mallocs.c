/*
 * mallocs - print every malloc of a command: its size, its result and
 * how long it took.  The worked example of dtproc(3).
 *
 *	cc -o mallocs mallocs.c -ldtproc
 *	./mallocs ls /
 */
#include <dtproc.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <sys/wait.h>

/* Called on the control thread, the thread stopped, the handle locked. */
static void
on_malloc(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *hit,
    void *arg)
{
	(void) dtp, (void) pr, (void) arg;
	if (hit->dh_kind == DTPROC_HIT_ENTRY)
		printf("%d: malloc(%" PRIu64 ")\n", (int)hit->dh_tid,
		    hit->dh_args[0]);
	else
		printf("%d: malloc = %#" PRIx64 " (%" PRIu64 " ns)\n",
		    (int)hit->dh_tid, hit->dh_retval,
		    hit->dh_time - hit->dh_entry_time);
}

int
main(int argc, char *argv[])
{
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	dtproc_sym_t sym;
	struct pollfd pfd;
	int err, status;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CMD [ARG...]\n", argv[0]);
		return 2;
	}
	if ((dtp = dtproc_open(0, &err)) == NULL) {
		fprintf(stderr, "dtproc_open: %s\n", dtproc_strerror(err));
		return 1;
	}
	/* stopped at main: libc is loaded, nothing of the program ran */
	if ((pr = dtproc_create(dtp, argv[1], &argv[1],
	    DTPROC_STOP_MAIN)) == NULL) {
		fprintf(stderr, "%s\n", dtproc_errmsg(dtp));
		dtproc_close(dtp);
		return 1;
	}
	if (dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc", &sym) != 0 ||
	    dtproc_fprobe_add(dtp, pr, sym.ds_addr, 0, DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN, on_malloc, NULL) != 0) {
		fprintf(stderr, "%s\n", dtproc_errmsg(dtp));
		dtproc_release(dtp, pr);	/* kills it: we created it */
		dtproc_close(dtp);
		return 1;
	}
	dtproc_continue(dtp, pr);

	/* the only notice will be its death (or loss) */
	pfd.fd = dtproc_notify_fd(dtp);
	pfd.events = POLLIN;
	while (dtproc_handle_notify(dtp, NULL, NULL) == 0)
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;

	status = dtproc_status(dtp, pr);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
