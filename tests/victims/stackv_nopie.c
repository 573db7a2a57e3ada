/*
 * stackv_nopie - stackv built as a non-PIE executable, -O2 without frame
 * pointers (VICTIM_FLAGS_stackv_nopie): the same chains at link-time
 * addresses.
 */
#include "stackv.c"
