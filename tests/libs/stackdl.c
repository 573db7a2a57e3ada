/*
 * libstackdl.so - the library stackv dlopens: dl_a -> dl_b -> dl_c, which
 * blocks in read(0) for one byte, so the unwinder walks a dlopen'd object.
 */
#include <errno.h>
#include <unistd.h>

#define NOINL __attribute__((noinline))

NOINL int
dl_c(int x)
{
	char ch;
	ssize_t r;

	do
		r = read(0, &ch, 1);
	while (r < 0 && errno == EINTR);
	__asm__ volatile("" ::: "memory");
	return (int)r + x;
}

NOINL int
dl_b(int x)
{
	int r = dl_c(x + 1);

	__asm__ volatile("" ::: "memory");
	return r * 2;
}

NOINL int
dl_a(int x)
{
	int r = dl_b(x + 1);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}
