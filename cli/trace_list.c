/*
 * trace_list.c - `dtproc trace -l --elf PATH`: the probes the
 * descriptions would match in an ELF file, with no process.
 *
 * -l with -p or -c arms the probes at the chosen stop and lists how each
 * is carried (trace_report.c's trace_list); a file names its functions
 * but no process has mapped it, so nothing is armed and whether a site
 * could be patched is not known (the library decides that from the text
 * as mapped, with its branch targets): "how" is "unknown".  Addresses
 * are the file's.  A description that matches nothing is an error, as it
 * is at a process's stop (-Z: a warning); so is a list with nothing in
 * it.  A USDT description lists the file's sys/sdt.h probes it matches
 * (trace_usdt_list: address, semaphore, argument spec) in the same list.
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

typedef struct trace_elf {
	trace_t *te_tr;
	trace_probe_t *te_probe;
	size_t te_n;
} trace_elf_t;

static int
trace_elf_one(const dtproc_sym_t *sym, void *arg)
{
	trace_elf_t *te = arg;
	trace_t *tr = te->te_tr;
	const desc_t *d = &te->te_probe->tp_desc;
	FILE *o = tr->tr_out;
	const char *fn = sym->ds_demangled != NULL && !tr->tr_mangled ?
	    sym->ds_demangled : sym->ds_name;
	int flen = fn == sym->ds_demangled ? (int)strlen(fn) :
	    (int)strcspn(fn, "@");
	char f[512], label[600];

	snprintf(f, sizeof (f), "%.*s", flen, fn);
	for (int k = DTPROC_FP_ENTRY; k <= DTPROC_FP_OFFSET; k <<= 1) {
		size_t off = k == DTPROC_FP_OFFSET ? d->dd_off : 0;

		if (!(d->dd_kinds & k))
			continue;
		(void) desc_label(label, sizeof (label), f, k, off, 0);
		te->te_probe->tp_matched++;
		if (tr->tr_json) {
			fprintf(o, "%s{\"object\":", te->te_n ? "," : "");
			cli_json_str(o, sym->ds_object);
			fprintf(o, ",\"function\":");
			cli_json_str(o, f);
			fprintf(o, ",\"address\":%lu,\"size\":%lu,\"how\":"
			    "\"unknown\",\"why\":null,\"name\":",
			    (unsigned long)(sym->ds_addr + off),
			    (unsigned long)sym->ds_size);
			if (k == DTPROC_FP_OFFSET)
				fprintf(o, "\"%zx\"}", off);
			else
				fprintf(o, "\"%s\"}", k == DTPROC_FP_RETURN ?
				    "return" : "entry");
		} else {
			fprintf(o, "%s`%-40.300s %#14lx %8lu  unknown: no "
			    "process\n", sym->ds_object, label,
			    (unsigned long)(sym->ds_addr + off),
			    (unsigned long)sym->ds_size);
		}
		te->te_n++;
	}
	return 0;
}

int
trace_list_elf(trace_t *tr, const cli_target_t *t)
{
	trace_elf_t te = { tr, NULL, 0 };
	FILE *o = tr->tr_out;
	bool bad = false;
	int rv;

	if (tr->tr_json)
		fprintf(o, "{\"file\":");
	if (tr->tr_json) {
		cli_json_str(o, tr->tr_elf);
		fprintf(o, ",\"sites\":[");
	}
	for (int i = 0; i < tr->tr_nprobes; i++) {
		const desc_t *d = &tr->tr_probes[i].tp_desc;

		te.te_probe = &tr->tr_probes[i];
		/* an object part must name the file */
		if (d->dd_obj != NULL && strcmp(d->dd_obj, "*") != 0) {
			const char *b = strrchr(tr->tr_elf, '/');

			b = b != NULL ? b + 1 : tr->tr_elf;
			if (strcmp(d->dd_obj, "a.out") != 0 &&
			    strncmp(b, d->dd_obj, strlen(d->dd_obj)) != 0 &&
			    strpbrk(d->dd_obj, "*?[") == NULL)
				continue;
		}
		if (d->dd_kinds == DESC_USDT) {
			/* the notes' probes: trace_usdt.c lists them */
			rv = trace_usdt_list(o, NULL, NULL, tr->tr_elf, d,
			    tr->tr_json, te.te_n);
			if (rv > 0) {
				te.te_n += (size_t)rv;
				te.te_probe->tp_matched += rv;
			}
		} else {
			rv = dtproc_elf_sym_iter(NULL, tr->tr_elf, d->dd_func,
			    trace_elf_one, &te);
		}
		if (rv < 0) {
			if (tr->tr_json)
				fprintf(o, "]}\n");
			fprintf(stderr, "%s: trace: %s\n", cli_progname,
			    dtproc_errmsg(NULL));
			(void) cli_out_close(o, "trace", t->ct_out);
			return CLI_EXIT_FAIL;
		}
	}
	if (tr->tr_json)
		fprintf(o, "],\"sites_total\":%zu}\n", te.te_n);
	else
		fprintf(o, "%zu site%s in %s\n", te.te_n, te.te_n == 1 ? "" :
		    "s", tr->tr_elf);
	for (int i = 0; i < tr->tr_nprobes; i++) {
		if (tr->tr_probes[i].tp_matched != 0)
			continue;
		fprintf(stderr, "%s: %sprobe '%s' matches no %s in %s%s\n",
		    cli_progname, tr->tr_zmatch ? "warning: " : "trace: ",
		    tr->tr_probes[i].tp_spec,
		    tr->tr_probes[i].tp_desc.dd_kinds == DESC_USDT ?
		    "USDT probe" : "function", tr->tr_elf, tr->tr_zmatch ? "" :
		    " (-Z allows it)");
		bad = bad || !tr->tr_zmatch;
	}
	if (te.te_n == 0 && !bad) {
		fprintf(stderr, "%s: trace: -l: nothing to list in %s\n",
		    cli_progname, tr->tr_elf);
		bad = true;
	}
	if (cli_out_close(o, "trace", t->ct_out) != 0)
		return CLI_EXIT_FAIL;
	return bad ? CLI_EXIT_FAIL : 0;
}
