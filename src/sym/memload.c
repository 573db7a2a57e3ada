/*
 * memload.c - a symbol table read from the process's memory.
 *
 * When the file behind a mapping cannot be opened (deleted, and
 * /proc/PID/map_files is closed to us without CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE), its dynamic symbols are still in memory: the
 * dynamic section names .dynsym, .dynstr and the hash table that says how
 * many symbols there are.  glibc relocates those pointers in place in a
 * writable dynamic section; a read-only one (the vdso's) keeps them
 * relative, which is told apart by comparing with the bias.
 */
#include "sym_impl.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define SYM_MEM_MAXSYMS	(1u << 20)
#define SYM_MEM_MAXSTR	(64u << 20)

/* Read the process's memory; 0 or -errno.  No stop is needed. */
int
sym_mem_read(pid_t pid, uintptr_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)addr, len };
	char path[64];
	ssize_t n;
	int fd;

	if (process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len)
		return 0;
	snprintf(path, sizeof (path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

/* The number of dynamic symbols, from DT_GNU_HASH's buckets and chains. */
static int
sym_mem_gnu_count(pid_t pid, uintptr_t gh, uint32_t *count)
{
	uint32_t hdr[4], maxb = 0, nb, symoff, v;
	uint32_t *buckets;

	if (sym_mem_read(pid, gh, hdr, sizeof (hdr)) != 0)
		return -EFAULT;
	nb = hdr[0];
	symoff = hdr[1];
	if (nb == 0 || nb > SYM_MEM_MAXSYMS)
		return -EINVAL;
	uintptr_t bk = gh + 16 + (uintptr_t)hdr[2] * 8;
	if ((buckets = malloc(nb * sizeof (uint32_t))) == NULL)
		return -ENOMEM;
	if (sym_mem_read(pid, bk, buckets, nb * sizeof (uint32_t)) != 0) {
		free(buckets);
		return -EFAULT;
	}
	for (uint32_t i = 0; i < nb; i++)
		if (buckets[i] > maxb)
			maxb = buckets[i];
	free(buckets);
	if (maxb < symoff) {
		*count = symoff;
		return 0;
	}
	uintptr_t chains = bk + (uintptr_t)nb * 4;
	for (uint32_t i = maxb; i - symoff < SYM_MEM_MAXSYMS; i++) {
		if (sym_mem_read(pid, chains + (uintptr_t)(i - symoff) * 4, &v,
		    4) != 0)
			return -EFAULT;
		if (v & 1) {
			*count = i + 1;
			return 0;
		}
	}
	return -EINVAL;
}

sym_file_t *
sym_file_from_memory(pid_t pid, uintptr_t bias, uintptr_t dyn, int *errp)
{
	uintptr_t symtab = 0, strtab = 0, gnuhash = 0, hash = 0;
	uint64_t strsz = 0;
	uint32_t count = 0;
	Elf64_Sym *syms = NULL;
	sym_file_t *F = NULL;
	char *strs = NULL;
	int rv = -EINVAL;

	for (int i = 0; i < 1024; i++) {
		Elf64_Dyn d;

		if (sym_mem_read(pid, dyn + i * sizeof (d), &d, sizeof (d)) != 0)
			break;
		if (d.d_tag == DT_NULL)
			break;
		uintptr_t p = d.d_un.d_ptr < bias ? d.d_un.d_ptr + bias :
		    d.d_un.d_ptr;
		switch (d.d_tag) {
		case DT_SYMTAB: symtab = p; break;
		case DT_STRTAB: strtab = p; break;
		case DT_STRSZ: strsz = d.d_un.d_val; break;
		case DT_GNU_HASH: gnuhash = p; break;
		case DT_HASH: hash = p; break;
		}
	}
	if (symtab == 0 || strtab == 0 || strsz == 0 || strsz > SYM_MEM_MAXSTR)
		goto out;
	if (gnuhash != 0) {
		if ((rv = sym_mem_gnu_count(pid, gnuhash, &count)) != 0)
			goto out;
	} else if (hash != 0) {
		uint32_t h[2];

		if ((rv = sym_mem_read(pid, hash, h, sizeof (h))) != 0)
			goto out;
		count = h[1];
	}
	rv = -EINVAL;
	if (count == 0 || count > SYM_MEM_MAXSYMS)
		goto out;
	rv = -ENOMEM;
	if ((syms = calloc(count, sizeof (*syms))) == NULL ||
	    (strs = malloc(strsz + 1)) == NULL ||
	    (F = calloc(1, sizeof (*F))) == NULL ||
	    (F->sf_syms = calloc(count, sizeof (sym_entry_t))) == NULL)
		goto out;
	rv = -EFAULT;
	if (sym_mem_read(pid, symtab, syms, count * sizeof (*syms)) != 0 ||
	    sym_mem_read(pid, strtab, strs, strsz) != 0)
		goto out;
	strs[strsz] = '\0';
	for (uint32_t i = 0; i < count; i++) {
		int type = ELF64_ST_TYPE(syms[i].st_info);

		if (syms[i].st_shndx == SHN_UNDEF || syms[i].st_value == 0 ||
		    syms[i].st_name == 0 || syms[i].st_name >= strsz ||
		    (type != STT_FUNC && type != STT_OBJECT &&
		    type != STT_GNU_IFUNC && type != STT_NOTYPE))
			continue;
		sym_entry_t *e = &F->sf_syms[F->sf_nsyms++];
		e->se_value = syms[i].st_value;
		e->se_size = syms[i].st_size;
		e->se_name = syms[i].st_name;
		e->se_ver = SYM_NOVER;	/* DT_VERSYM is not read */
		e->se_type = (uint8_t)type;
		e->se_bind = (uint8_t)ELF64_ST_BIND(syms[i].st_info);
	}
	F->sf_strs = strs;
	F->sf_strsz = strsz + 1;
	strs = NULL;
	F->sf_source = "memory";
	rv = sym_file_index(F);
out:
	free(syms);
	free(strs);
	if (rv != 0) {
		sym_file_free(F);
		*errp = rv;
		return NULL;
	}
	return F;
}
