/*
 * The real kernel's side of mmsim's address-space benchmark: anonymous
 * write faults per second (THP disabled, so every fault maps one 4 KiB
 * page), and mmap+munmap pairs per second. Prints one JSON object.
 *
 *   cc -O2 -o fault_bench fault_bench.c && ./fault_bench [pages] [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long pages = argc > 1 ? atol(argv[1]) : 16384;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double best_faults = 0, best_pairs = 0;

	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		perror("prctl(PR_SET_THP_DISABLE)");
	for (int r = 0; r < rounds; r++) {
		char *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		double t0 = now();
		for (long i = 0; i < pages; i++)
			p[i * 4096] = 1;
		double dt = now() - t0;
		munmap(p, pages * 4096);
		if (pages / dt > best_faults)
			best_faults = pages / dt;

		long n = 20000;
		t0 = now();
		for (long i = 0; i < n; i++) {
			void *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			munmap(q, 8192);
		}
		dt = now() - t0;
		if (n / dt > best_pairs)
			best_pairs = n / dt;
	}
	printf("{\"faults_per_s\": %.0f, \"mmap_munmap_pairs_per_s\": %.0f}\n", best_faults, best_pairs);
	return 0;
}
