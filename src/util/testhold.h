/*
 * testhold.h - the holds tests put the library in (DTPROC_TEST_INJECT,
 * DTPROC_TEST_PARK: dtproc(3)), so that a test may look at a process or
 * kill us at one exact step.  Below every layer.
 */
#ifndef DTPROC_TESTHOLD_H
#define DTPROC_TESTHOLD_H

/*
 * If environment variable VAR holds "W,R" (two descriptor numbers) and
 * TAG is "", or "W,R,TAG": write the line FMT makes on W and wait for a
 * byte, or end of file, on R.  Otherwise nothing.
 */
void test_hold(const char *var, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* DTPROC_TESTHOLD_H */
