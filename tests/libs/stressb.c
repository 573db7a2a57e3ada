/*
 * libstressb.so - libstressa.so's twin of the same layout whose
 * stress_lib_fn computes 5 * x (see stressa.c).
 */
#define STRESS_LIB_B
#include "stressa.c"
