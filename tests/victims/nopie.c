/*
 * nopie - symv built as a non-PIE executable (VICTIM_FLAGS_nopie): the
 * same program and protocol, loaded at its link-time addresses (bias 0).
 */
#include "symv.c"
