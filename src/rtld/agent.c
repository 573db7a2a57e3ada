/*
 * agent.c - glibc's r_debug and link maps, read from the tracee.
 *
 * Layouts are glibc's public ones (<link.h>), 64-bit:
 *   r_debug_extended { int r_version; link_map *r_map; Addr r_brk;
 *                      int r_state; Addr r_ldbase; r_debug_extended *r_next }
 *   link_map         { Addr l_addr; char *l_name; Dyn *l_ld;
 *                      link_map *l_next, *l_prev; ... }
 * r_version becomes 2 after the first dlmopen(LM_ID_NEWLM); only then is
 * r_next meaningful.  A list is read only when every namespace says
 * RT_CONSISTENT, so a walk never follows a half-linked entry; the walk is
 * bounded as well, since the victim's memory is not to be trusted.
 */
#include "rtld_impl.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RTLD_MAX_OBJS	65536
#define RTLD_MAX_NS	64

rtld_t *
rtld_new(pt_proc_t *P, sym_proc_t *S)
{
	rtld_t *R = calloc(1, sizeof (*R));

	if (R == NULL)
		return NULL;
	R->rt_proc = P;
	R->rt_sym = S;
	return R;
}

static void
rtld_objs_free(rtld_obj_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].ro_path);
	free(v);
}

void
rtld_free(rtld_t *R)
{
	if (R == NULL)
		return;
	rtld_objs_free(R->rt_objs, R->rt_nobjs);
	free(R);
}

void
rtld_ev_free(rtld_ev_t *ev)
{
	rtld_objs_free(ev->re_added, ev->re_nadded);
	rtld_objs_free(ev->re_removed, ev->re_nremoved);
	memset(ev, 0, sizeof (*ev));
}

static int
rtld_read(rtld_t *R, uintptr_t addr, void *buf, size_t len)
{
	return pt_mem_read(R->rt_proc, addr, buf, len) == (ssize_t)len ?
	    0 : -EFAULT;
}

/* auxv: where the program headers are, ld.so's base, the entry. */
static int
rtld_auxv(rtld_t *R)
{
	char path[64];
	Elf64_auxv_t a;
	int fd;

	snprintf(path, sizeof (path), "/proc/%d/auxv", (int)pt_pid(R->rt_proc));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while (read(fd, &a, sizeof (a)) == sizeof (a) && a.a_type != AT_NULL) {
		switch (a.a_type) {
		case AT_PHDR: R->rt_phdr = a.a_un.a_val; break;
		case AT_PHNUM: R->rt_phnum = a.a_un.a_val; break;
		case AT_BASE: R->rt_ldbase = a.a_un.a_val; break;
		case AT_ENTRY: R->rt_entry = a.a_un.a_val; break;
		}
	}
	close(fd);
	return R->rt_phdr != 0 ? 0 : -ENOENT;
}

/* The executable's dynamic section, from its program headers. */
static int
rtld_exe_headers(rtld_t *R)
{
	uintptr_t bias = 0, dyn = 0;
	int have_phdr = 0;

	if (R->rt_phnum == 0 || R->rt_phnum > 256)
		return -ENOEXEC;
	for (size_t i = 0; i < R->rt_phnum; i++) {
		Elf64_Phdr ph;

		if (rtld_read(R, R->rt_phdr + i * sizeof (ph), &ph,
		    sizeof (ph)) != 0)
			return -EFAULT;
		if (ph.p_type == PT_PHDR) {
			bias = R->rt_phdr - ph.p_vaddr;
			have_phdr = 1;
		} else if (ph.p_type == PT_DYNAMIC) {
			dyn = ph.p_vaddr;
		} else if (ph.p_type == PT_INTERP) {
			R->rt_interp = 1;
		}
	}
	if (!have_phdr && dyn != 0) {
		/*
		 * No PT_PHDR (ld.so has none): the headers follow the ELF
		 * header at the start of the first PT_LOAD.
		 */
		Elf64_Ehdr eh;

		for (size_t i = 0; i < R->rt_phnum; i++) {
			Elf64_Phdr ph;

			if (rtld_read(R, R->rt_phdr + i * sizeof (ph), &ph,
			    sizeof (ph)) != 0 || ph.p_type != PT_LOAD)
				continue;
			if (rtld_read(R, R->rt_phdr - sizeof (eh), &eh,
			    sizeof (eh)) == 0 &&
			    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
			    eh.e_phoff == sizeof (eh)) {
				bias = R->rt_phdr - (ph.p_vaddr - ph.p_offset +
				    eh.e_phoff);
				have_phdr = 1;
			}
			break;
		}
	}
	if (!have_phdr || dyn == 0)
		return -ENOENT;
	R->rt_exe_dyn = bias + dyn;
	/* no interpreter but a DT_SONAME: ld.so itself runs the program */
	for (int i = 0; i < 4096 && !R->rt_interp; i++) {
		Elf64_Dyn d;

		if (rtld_read(R, R->rt_exe_dyn + i * sizeof (d), &d,
		    sizeof (d)) != 0 || d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_SONAME)
			R->rt_self = 1;
	}
	return 0;
}

int
rtld_dynamic(rtld_t *R)
{
	int rv;

	if (!R->rt_probed) {
		if ((rv = rtld_auxv(R)) != 0)
			return rv;
		(void) rtld_exe_headers(R);
		R->rt_probed = 1;
	}
	return R->rt_interp;
}

/* r_debug: DT_DEBUG once ld.so set it; before that, ld.so's _r_debug. */
static int
rtld_find_rdebug(rtld_t *R)
{
	if (R->rt_rdebug != 0)
		return 0;
	if (rtld_dynamic(R) < 0 || (!R->rt_interp && !R->rt_self))
		return -ENOENT;		/* static: no run-time linker */
	for (int i = 0; i < 4096 && R->rt_exe_dyn != 0; i++) {
		Elf64_Dyn d;

		if (rtld_read(R, R->rt_exe_dyn + i * sizeof (d), &d,
		    sizeof (d)) != 0 || d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_DEBUG && d.d_un.d_ptr != 0) {
			R->rt_rdebug = d.d_un.d_ptr;
			return 0;
		}
	}
	sym_info_t si;
	if (rtld_ldso_sym(R, "_r_debug", &si) == 0) {
		R->rt_rdebug = si.sy_addr;
		return 0;
	}
	return -ENOENT;
}

/* A symbol of ld.so, the object mapped at AT_BASE. */
int
rtld_ldso_sym(rtld_t *R, const char *name, sym_info_t *si)
{
	sym_objinfo_t oi;
	char spec[512];

	if (sym_object(R->rt_sym, 0, &oi) != 0)
		(void) sym_proc_update_maps(R->rt_sym);
	/*
	 * No interpreter: either a static program, or ld.so run as the
	 * program (ld.so ./prog), which is then its own run-time linker.
	 */
	if (R->rt_ldbase == 0) {
		snprintf(spec, sizeof (spec), "a.out`%s", name);
		return sym_lookup_name(R->rt_sym, spec, si);
	}
	for (size_t i = 0; sym_object(R->rt_sym, i, &oi) == 0; i++) {
		if (oi.so_start != R->rt_ldbase)
			continue;
		snprintf(spec, sizeof (spec), "%s`%s", oi.so_path, name);
		return sym_lookup_name(R->rt_sym, spec, si);
	}
	return -ENOENT;
}

int
rtld_read_rdebug(rtld_t *R, uintptr_t addr, rtld_rdebug_t *rd)
{
	struct {
		int32_t version;
		int32_t pad;
		uint64_t map, brk;
		int32_t state;
		int32_t pad2;
		uint64_t ldbase, next;
	} raw;

	if (rtld_read(R, addr, &raw, sizeof (raw)) != 0)
		return -EFAULT;
	rd->rd_version = raw.version;
	rd->rd_map = raw.map;
	rd->rd_brk = raw.brk;
	rd->rd_state = raw.state;
	rd->rd_next = raw.version >= 2 ? raw.next : 0;
	return 0;
}

static int
rtld_read_str(rtld_t *R, uintptr_t addr, char **out)
{
	char buf[4096];
	size_t got = 0;

	if (addr == 0) {
		*out = strdup("");
		return *out != NULL ? 0 : -ENOMEM;
	}
	/* a page at a time: the string may end before an unmapped page */
	while (got < sizeof (buf) - 1) {
		size_t chunk = 256 - ((addr + got) % 256);

		if (chunk > sizeof (buf) - 1 - got)
			chunk = sizeof (buf) - 1 - got;
		if (rtld_read(R, addr + got, buf + got, chunk) != 0)
			return -EFAULT;
		if (memchr(buf + got, '\0', chunk) != NULL)
			break;
		got += chunk;
	}
	buf[sizeof (buf) - 1] = '\0';
	*out = strdup(buf);
	return *out != NULL ? 0 : -ENOMEM;
}

/* A path, or a plain ASCII name (linux-vdso.so.1), never raw bytes. */
static int
rtld_printable(const char *s)
{
	int path = *s == '/';

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !path))
			return 0;
	}
	return 1;
}

static int rtld_walk_once(rtld_t *R, rtld_obj_t **objsp, size_t *np);

static const char *
rtld_base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

/*
 * Does this entry look like what the mappings say?  Its dynamic section
 * must sit in the vdso (for a plain name) or in a mapped file whose name
 * it bears: a path naming a regular file, or the same basename (relative
 * names, other mount namespaces, deleted files).
 */
static int
rtld_plausible(const rtld_obj_t *o, const pt_map_t *maps, size_t n)
{
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		const char *mp = maps[i].pm_path;
		char base[256];

		if (o->ro_dyn < maps[i].pm_start || o->ro_dyn >= maps[i].pm_end)
			continue;
		if (strcmp(mp, "[vdso]") == 0)
			return strchr(o->ro_path, '/') == NULL;
		if (mp[0] != '/')
			return 0;
		if (o->ro_path[0] == '/' && stat(o->ro_path, &st) == 0 &&
		    S_ISREG(st.st_mode))
			return 1;
		snprintf(base, sizeof (base), "%s", rtld_base(mp));
		char *del = strstr(base, " (deleted)");
		if (del != NULL)
			*del = '\0';
		return strcmp(base, rtld_base(o->ro_path)) == 0;
	}
	return 0;
}

/*
 * Walk every namespace.  -EAGAIN if one is not consistent.  A process we
 * do not stop may dlopen and dlclose while we read; two walks that agree,
 * each bracketed by consistent states, make a torn list all but
 * impossible to return.
 */
int
rtld_walk(rtld_t *R, rtld_obj_t **objsp, size_t *np)
{
	rtld_obj_t *a, *b;
	size_t na, nb;
	int rv;

	if ((rv = rtld_walk_once(R, &a, &na)) != 0)
		return rv;
	if (pt_is_owner(R->rt_proc) && pt_state(R->rt_proc) == PT_STOPPED) {
		*objsp = a;	/* nothing can change under us */
		*np = na;
		return 0;
	}
	if ((rv = rtld_walk_once(R, &b, &nb)) != 0) {
		rtld_objs_free(a, na);
		return rv;
	}
	rv = na == nb ? 0 : -EAGAIN;
	for (size_t i = 0; rv == 0 && i < na; i++) {
		if (a[i].ro_bias != b[i].ro_bias || a[i].ro_dyn != b[i].ro_dyn ||
		    a[i].ro_lmid != b[i].ro_lmid ||
		    strcmp(a[i].ro_path, b[i].ro_path) != 0)
			rv = -EAGAIN;
	}
	rtld_objs_free(b, nb);
	/*
	 * A name read while ld.so was freeing and reusing it can be stable
	 * across both walks: a path must name a file, or the mapping holding
	 * the object's dynamic section must be a file that was deleted.
	 */
	pt_map_t *maps = NULL;
	size_t nmaps = 0;

	if (rv == 0 && pt_maps_read(pt_pid(R->rt_proc), &maps, &nmaps) != 0)
		rv = -EAGAIN;
	for (size_t i = 0; rv == 0 && i < na; i++) {
		if (i == 0 && a[i].ro_path[0] == '\0')
			continue;	/* the executable */
		if (!rtld_plausible(&a[i], maps, nmaps))
			rv = -EAGAIN;
	}
	pt_maps_free(maps, nmaps);
	if (rv != 0) {
		rtld_objs_free(a, na);
		return rv;
	}
	*objsp = a;
	*np = na;
	return 0;
}

static int
rtld_walk_once(rtld_t *R, rtld_obj_t **objsp, size_t *np)
{
	rtld_obj_t *objs = NULL;
	size_t n = 0, alloc = 0;
	uintptr_t rdaddr;
	int rv = 0, ns = 0;

	*objsp = NULL;
	*np = 0;
	if ((rv = rtld_find_rdebug(R)) != 0)
		return rv;
	for (rdaddr = R->rt_rdebug; rdaddr != 0 && ns < RTLD_MAX_NS; ns++) {
		rtld_rdebug_t rd;

		if ((rv = rtld_read_rdebug(R, rdaddr, &rd)) != 0)
			goto fail;
		if (rd.rd_state != RT_CONSISTENT) {
			rv = -EAGAIN;
			goto fail;
		}
		for (uintptr_t lm = rd.rd_map, prev = 0; lm != 0; ) {
			uint64_t l[5];	/* l_addr l_name l_ld l_next l_prev */

			if (n == RTLD_MAX_OBJS ||
			    rtld_read(R, lm, l, sizeof (l)) != 0) {
				rv = -EFAULT;
				goto fail;
			}
			/*
			 * A process we do not stop may change the list under
			 * us: an entry whose l_prev is not where we came from
			 * was relinked meanwhile.
			 */
			if (l[4] != prev) {
				rv = -EAGAIN;
				goto fail;
			}
			prev = lm;
			if (n == alloc) {
				size_t a = alloc ? alloc * 2 : 32;
				rtld_obj_t *v = realloc(objs, a * sizeof (*v));
				if (v == NULL) {
					rv = -ENOMEM;
					goto fail;
				}
				objs = v;
				alloc = a;
			}
			objs[n].ro_bias = l[0];
			objs[n].ro_dyn = l[2];
			objs[n].ro_lmid = ns;
			if ((rv = rtld_read_str(R, l[1], &objs[n].ro_path)) != 0)
				goto fail;
			n++;
			/*
			 * What a link_map looks like: a page-aligned bias, a
			 * printable name, empty only for the executable.  A
			 * freed entry read in passing looks otherwise.
			 */
			if ((l[0] & 0xfff) != 0 ||
			    !rtld_printable(objs[n - 1].ro_path) ||
			    (objs[n - 1].ro_path[0] == '\0' &&
			    (n != 1 || ns != 0))) {
				rv = -EAGAIN;
				goto fail;
			}
			lm = l[3];
		}
		rdaddr = rd.rd_next;
	}
	/* and every namespace still consistent once we are done */
	for (rdaddr = R->rt_rdebug, ns = 0; rdaddr != 0 && ns < RTLD_MAX_NS;
	    ns++) {
		rtld_rdebug_t rd;

		if (rtld_read_rdebug(R, rdaddr, &rd) != 0 ||
		    rd.rd_state != RT_CONSISTENT) {
			rv = -EAGAIN;
			goto fail;
		}
		rdaddr = rd.rd_next;
	}
	*objsp = objs;
	*np = n;
	return 0;
fail:
	rtld_objs_free(objs, n);
	return rv;
}

int
rtld_refresh(rtld_t *R)
{
	rtld_obj_t *objs;
	size_t n;
	int rv = rtld_walk(R, &objs, &n);

	if (rv != 0) {
		sym_objinfo_t oi;

		/* no link maps, or none readable yet: the maps serve */
		if (rv == -ENOENT || sym_object(R->rt_sym, 0, &oi) != 0)
			(void) sym_proc_update_maps(R->rt_sym);
		return rv;
	}
	sym_objdesc_t *d = calloc(n + 1, sizeof (*d));
	if (d == NULL) {
		rtld_objs_free(objs, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		d[i].sd_path = objs[i].ro_path;
		d[i].sd_bias = objs[i].ro_bias;
		d[i].sd_dyn = objs[i].ro_dyn;
		d[i].sd_lmid = objs[i].ro_lmid;
	}
	rv = sym_proc_set_objects(R->rt_sym, d, n);
	free(d);
	rtld_objs_free(R->rt_objs, R->rt_nobjs);
	R->rt_objs = objs;
	R->rt_nobjs = n;
	return rv;
}

const rtld_obj_t *
rtld_objects(rtld_t *R, size_t *n)
{
	*n = R->rt_nobjs;
	return R->rt_objs;
}
