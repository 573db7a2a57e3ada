/*
 * fprobes.c - function probes with the pid provider's features
 * (dtproc_fprobe_*, dtproc_hit_reg): entry, return and offset probes.
 * Interface only until the return-probe work lands (issue 13).
 */
#include "ctl.h"

#include <errno.h>

DTPROC_API int
dtproc_fprobe_add(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    size_t off, int flags, dtproc_hit_f *fn, void *arg)
{
	(void) dtp, (void) off, (void) flags, (void) fn, (void) arg;
	return err_set(ENOSYS, "pid %d: function probe at %#lx: not built",
	    (int)dtproc_pid(pr), (unsigned long)func);
}

DTPROC_API int
dtproc_fprobe_del(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    size_t off, int flags)
{
	(void) dtp, (void) off, (void) flags;
	return err_set(ENOENT, "pid %d: no function probe at %#lx",
	    (int)dtproc_pid(pr), (unsigned long)func);
}

DTPROC_API int
dtproc_fprobe_info(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    size_t off, int flags, dtproc_fprobe_info_t *info)
{
	(void) dtp, (void) off, (void) flags, (void) info;
	return err_set(ENOENT, "pid %d: no function probe at %#lx",
	    (int)dtproc_pid(pr), (unsigned long)func);
}

DTPROC_API int
dtproc_hit_reg(const dtproc_hit_t *hit, const char *name, uint64_t *val)
{
	(void) hit, (void) val;
	return err_set(ENOENT, "no register %s", name);
}
