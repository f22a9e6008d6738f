/*
 * The real kernel's side of mmsim's scaling rows (bench/scale.ts runs it in
 * the same `npm run bench` as the simulator's side). Every number is CPU
 * time, never wall time: the host is shared, and CLOCK_PROCESS_CPUTIME_ID
 * (or a reaped child's rusage) counts only what this work cost. THP is off,
 * so every fault maps one 4 KiB page, as in mmsim. Each mode prints one
 * JSON object:
 *
 *   scale_bench vmas N MIN_MS      with N one-page VMAs: mmap+munmap pairs/s,
 *                                  mid-space munmap+MAP_FIXED pairs/s, smaps reads/s
 *   scale_bench exit N REPS        exit of a child holding N VMAs: CPU us (median)
 *   scale_bench cold MIB WIN_MIB   cold write faults over MIB, CPU us per fault
 *                                  per window, and resident bytes per page
 *   scale_bench forkcow MIB REPS   fork at MIB resident, then the child writes
 *                                  every page (COW): CPU us (median)
 *
 *   cc -O2 -o scale_bench scale_bench.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096L
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* This process's CPU time (all threads, user + kernel) in microseconds. */
static double cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * N one-page anonymous VMAs that cannot merge: a PROT_NONE reservation of
 * N + 2 pages (the first and last stay PROT_NONE, so no neighbour outside
 * can merge with the run either), each inner page mapped again MAP_FIXED,
 * read-write at even indexes and read-only at odd ones. The same layout as
 * bench/vma_layout.ts builds in the simulator. Returns the first inner page.
 */
static char *make_vmas(long n)
{
	char *r = mmap(NULL, (n + 2) * PAGE, PROT_NONE, ANON | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		die("mmap reservation");
	char *base = r + PAGE;
	for (long i = 0; i < n; i++)
		if (mmap(base + i * PAGE, PAGE, i % 2 ? PROT_READ : RW, ANON | MAP_FIXED, -1, 0) == MAP_FAILED)
			die("mmap MAP_FIXED");
	return base;
}

/* A write to every read-write page of make_vmas()'s run (so exit and smaps have pages to see). */
static void touch_vmas(char *base, long n)
{
	for (long i = 0; i < n; i += 2)
		base[i * PAGE] = 1;
}

/* The operation rate() times, and what it works on (C has no closures). */
static char *g_mid;

static void op_pair(void)
{
	void *q = mmap(NULL, PAGE, RW, ANON, -1, 0);
	if (q == MAP_FAILED)
		die("mmap");
	munmap(q, PAGE);
}

static void op_mid_remap(void)
{
	munmap(g_mid, PAGE);
	if (mmap(g_mid, PAGE, RW, ANON | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap MAP_FIXED mid");
}

static void op_smaps(void)
{
	static char buf[1 << 16];
	int fd = open("/proc/self/smaps", O_RDONLY);
	if (fd < 0)
		die("open smaps");
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
}

/*
 * Operations per CPU second: batches of doubling size until one batch took
 * min_ms of CPU (the same time-bounded loop as bench/cpu.ts's cpu_rate, so
 * a slow operation is timed over a few calls and a fast one over many).
 */
static double rate(void (*op)(void), double min_ms)
{
	for (long n = 1;; n *= 2) {
		double t0 = cpu_us();
		for (long i = 0; i < n; i++)
			op();
		double dt = cpu_us() - t0;
		if (dt >= min_ms * 1000)
			return n / dt * 1e6;
	}
}

static void mode_vmas(long n, double min_ms)
{
	char *base = make_vmas(n);
	double pairs = rate(op_pair, min_ms);
	/* the middle of the run, a read-write page between two read-only ones */
	g_mid = base + (n / 2 - (n / 2) % 2) * PAGE;
	double mid = rate(op_mid_remap, min_ms);
	touch_vmas(base, n);
	double smaps = rate(op_smaps, min_ms);
	printf("{\"vmas\": %ld, \"mmap_munmap_pairs_per_s\": %.1f, \"mid_remap_pairs_per_s\": %.1f, \"smaps_reads_per_s\": %.3f}\n",
	       n, pairs, mid, smaps);
}

/*
 * The CPU the exit of a process holding N VMAs costs: the child reports its
 * CPU time just before _exit(); wait4()'s rusage is its CPU time once dead
 * (exit_mmap ran in the child, before it became a zombie); the difference
 * is the exit.
 */
static void mode_exit(long n, int reps)
{
	double us[reps];
	for (int r = 0; r < reps; r++) {
		int pfd[2];
		if (pipe(pfd))
			die("pipe");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			touch_vmas(make_vmas(n), n);
			double before = cpu_us();
			if (write(pfd[1], &before, sizeof before) != sizeof before)
				_exit(2);
			_exit(0);
		}
		double before;
		if (read(pfd[0], &before, sizeof before) != sizeof before)
			die("read from child");
		struct rusage ru;
		int st;
		if (wait4(pid, &st, 0, &ru) != pid)
			die("wait4");
		close(pfd[0]);
		close(pfd[1]);
		double total = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
		us[r] = total - before;
	}
	printf("{\"vmas\": %ld, \"exit_cpu_us\": %.1f}\n", n, median(us, reps));
}

/* Resident bytes the kernel holds for this process: VmRSS + VmPTE of /proc/self/status. */
static long resident_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb, total = 0;
	if (!f)
		die("open status");
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1 || sscanf(line, "VmPTE: %ld kB", &kb) == 1)
			total += kb * 1024;
	fclose(f);
	return total;
}

/*
 * Cold write faults over one mapping of MIB, in windows of WIN MiB, as
 * bench/cold_faults.ts does in the simulator: for the windows ending at
 * 256 MiB, 2 GiB and the end, CPU us per fault in that window, over
 * everything before it, and the median of the last four windows (one
 * window alone is too short a sample on a shared host).
 */
static void mode_cold(long mib, long win_mib)
{
	long pages = mib * 256, per_win = win_mib * 256;
	char *a = mmap(NULL, pages * PAGE, RW, ANON | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED)
		die("mmap");
	long rss0 = resident_bytes();
	double cum = 0, last4[4];
	long nwin = 0;
	const char *sep = "";
	printf("{\"resident_mib\": %ld, \"windows\": {", mib);
	for (long first = 0; first < pages; first += per_win) {
		long end = first + per_win < pages ? first + per_win : pages;
		double t0 = cpu_us();
		for (long i = first; i < end; i++)
			a[i * PAGE] = 1;
		double dt = cpu_us() - t0;
		cum += dt;
		last4[nwin++ % 4] = dt / (end - first);
		long end_mib = end / 256;
		if (end_mib == 256 || end_mib == 2048 || end == pages) {
			double recent[4];
			int k = nwin < 4 ? nwin : 4;
			memcpy(recent, last4, sizeof recent);
			printf("%s\"%ldMiB\": {\"us_per_fault\": %.4f, \"cum_us_per_fault\": %.4f, \"med_us_per_fault\": %.4f}",
			       sep, end_mib, dt / (end - first), cum / end, median(recent, k));
			sep = ", ";
		}
	}
	printf("}, \"bytes_per_page\": %.1f}\n", (double)(resident_bytes() - rss0) / pages);
}

/*
 * fork() with MIB resident (its CPU is the parent's: copy_page_range), then
 * the child writes every page, each write a COW fault copying the page (its
 * CPU is the child's, reported through a pipe). The child's exit is not
 * counted.
 */
static void mode_forkcow(long mib, int reps)
{
	long pages = mib * 256;
	char *a = mmap(NULL, pages * PAGE, RW, ANON, -1, 0);
	if (a == MAP_FAILED)
		die("mmap");
	for (long i = 0; i < pages; i++)
		a[i * PAGE] = 1;
	double us[reps];
	for (int r = 0; r < reps; r++) {
		int pfd[2];
		if (pipe(pfd))
			die("pipe");
		double t0 = cpu_us();
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			double c0 = cpu_us();
			for (long i = 0; i < pages; i++)
				a[i * PAGE] = 2;
			double cow = cpu_us() - c0;
			if (write(pfd[1], &cow, sizeof cow) != sizeof cow)
				_exit(2);
			_exit(0);
		}
		double fork_us = cpu_us() - t0;
		double cow;
		if (read(pfd[0], &cow, sizeof cow) != sizeof cow)
			die("read from child");
		int st;
		waitpid(pid, &st, 0);
		close(pfd[0]);
		close(pfd[1]);
		us[r] = fork_us + cow;
	}
	printf("{\"resident_mib\": %ld, \"pages\": %ld, \"fork_cow_cpu_us\": %.1f}\n", mib, pages, median(us, reps));
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: scale_bench vmas|exit|cold|forkcow ARG ARG\n");
		return 2;
	}
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("prctl(PR_SET_THP_DISABLE)");
	const char *mode = argv[1];
	long x = atol(argv[2]), y = atol(argv[3]);
	if (!strcmp(mode, "vmas"))
		mode_vmas(x, y);
	else if (!strcmp(mode, "exit"))
		mode_exit(x, y);
	else if (!strcmp(mode, "cold"))
		mode_cold(x, y);
	else if (!strcmp(mode, "forkcow"))
		mode_forkcow(x, y);
	else {
		fprintf(stderr, "scale_bench: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
