/*
 * probev_o2 - probev.c built -O2 (VICTIM_FLAGS_probev_o2): probe_target
 * starts with an imul, which no tracer can emulate as cheaply as a push,
 * and probe_other with a lea.
 */
#include "probev.c"
