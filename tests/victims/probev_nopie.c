/*
 * probev_nopie - probev.c built -O2 -fno-pie -no-pie
 * (VICTIM_FLAGS_probev_nopie): the executable sits at 0x400000, far below
 * the libraries, so an out-of-line copy of probe_rip's RIP-relative load
 * must be placed within 2 GB of that.
 */
#include "probev.c"
