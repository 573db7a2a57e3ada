/*
 * params.c - a function's parameters from DWARF (dtproc_fn_params,
 * dtproc_arg_format).  Interface only until the DWARF work lands
 * (issue 13).
 */
#include "ctl.h"

#include <errno.h>

DTPROC_API int
dtproc_fn_params(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    dtproc_param_t *params, int max, dtproc_param_t *ret)
{
	(void) dtp, (void) params, (void) max, (void) ret;
	return err_set(ENOENT, "pid %d: no DWARF describes %#lx",
	    (int)dtproc_pid(pr), (unsigned long)func);
}

DTPROC_API int
dtproc_arg_format(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_param_t *p,
    uint64_t val, char *buf, size_t len)
{
	(void) dtp, (void) pr, (void) p, (void) val, (void) buf, (void) len;
	return -ENOSYS;
}
