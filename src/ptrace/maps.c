/*
 * maps.c - the address space as /proc/PID/maps lists it.  Needs no stop
 * and may be called from any thread.
 */
#include "pt_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

static int
pt_map_parse(const char *line, pt_map_t *m)
{
	unsigned long start, end, off, ino;
	unsigned maj, min;
	char perm[5];
	int pos = 0;

	if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, perm,
	    &off, &maj, &min, &ino, &pos) < 7)
		return -1;
	m->pm_start = start;
	m->pm_end = end;
	m->pm_offset = off;
	m->pm_prot = (perm[0] == 'r' ? PROT_READ : 0) |
	    (perm[1] == 'w' ? PROT_WRITE : 0) |
	    (perm[2] == 'x' ? PROT_EXEC : 0);
	m->pm_shared = perm[3] == 's';
	m->pm_dev = makedev(maj, min);
	m->pm_inode = (ino_t)ino;
	m->pm_path = strdup(pos > 0 ? line + pos : "");
	if (m->pm_path == NULL)
		return -1;
	m->pm_path[strcspn(m->pm_path, "\n")] = '\0';
	return 0;
}

int
pt_maps_read(pid_t pid, pt_map_t **mapsp, size_t *np)
{
	char path[64], *line = NULL;
	size_t cap = 0, n = 0, alloc = 0;
	pt_map_t *maps = NULL;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (n == alloc) {
			size_t a = alloc ? alloc * 2 : 64;
			pt_map_t *m = realloc(maps, a * sizeof (*m));
			if (m == NULL)
				break;
			maps = m;
			alloc = a;
		}
		if (pt_map_parse(line, &maps[n]) == 0)
			n++;
	}
	free(line);
	fclose(f);
	*mapsp = maps;
	*np = n;
	return 0;
}

void
pt_maps_free(pt_map_t *maps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(maps[i].pm_path);
	free(maps);
}
