/*
 * spin - busy loop in main() until a go line arrives on stdin (read by a
 * second thread) or until killed.  EOF on stdin does not stop it.
 *
 *	ready <pid> counter=<addr of the loop counter>
 *	(go line)
 *	spun
 * Exits 0.  The counter lets a test see that main is inside the loop.
 */
#include "victim.h"

#include <pthread.h>
#include <stdatomic.h>

volatile unsigned long counter;
static atomic_int stop;

static void *
reader(void *arg)
{
	char line[64];

	(void)arg;
	while (v_getline(line, sizeof (line)) >= 0) {
		if (line[0] == 'g') {
			atomic_store(&stop, 1);
			break;
		}
	}
	return NULL;
}

int
main(void)
{
	pthread_t rd;

	v_init();
	if ((errno = pthread_create(&rd, NULL, reader, NULL)) != 0)
		v_die("pthread_create");
	printf("ready %d counter=%p\n", (int)getpid(), (void *)&counter);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		counter++;
	pthread_join(rd, NULL);
	printf("spun\n");
	return 0;
}
