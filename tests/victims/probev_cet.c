/*
 * probev_cet - probev.c built -O2 -fcf-protection=full
 * (VICTIM_FLAGS_probev_cet): every C function starts with endbr64.
 */
#include "probev.c"
