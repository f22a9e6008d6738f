/*
 * The real kernel's side of mmsim's reclaim rows (bench/reclaim_rows.ts runs
 * it in the same `npm run bench`).
 *
 * stream: a file larger than a memory cgroup's limit is read from start to
 * end a few times, so every page read evicts an older one. Prints one JSON
 * object: the pages reclaimed (/proc/vmstat pgsteal_file, which counts memcg
 * reclaim too; v1's pgpgout counts folios, and ext4 reads large ones) per
 * CPU second of the reading process, which is the one that reclaims (memcg
 * reclaim runs in the charging task).
 *
 * anon: an anonymous mapping larger than the limit gets one byte written
 * in every page, a few passes, so every write past the limit swaps an older
 * page out (and each later pass swaps it back in). Prints pgsteal_anon and
 * pswpout deltas and pgsteal_anon per CPU second. It needs swap that is on
 * zram only (and already on: the caller switches it on and off); with no
 * swap or another kind it exits 3.
 *
 * Both need root and the cgroup v1 memory controller at
 * /sys/fs/cgroup/memory; without them they print nothing and exit 2 (the
 * bench then leaves the real side out). They make the group
 * mmsim-bench-<pid> (and stream the file /var/tmp/mmsim-bench-<pid>), and
 * remove them before they exit.
 *
 *   reclaim_bench stream FILE_MIB LIMIT_MIB PASSES
 *   reclaim_bench anon MIB LIMIT_MIB PASSES
 *   cc -O2 -o reclaim_bench reclaim_bench.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CG "/sys/fs/cgroup/memory"
#define CHUNK (64 * 1024)

static char group[256], path[256];

static int put(const char *dir, const char *file, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_WRONLY);
	if (fd < 0)
		return -1;
	int ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

static long vmstat(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/vmstat", "r");
	long v = -1;
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ' ')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void cleanup(void)
{
	char pid[32];
	snprintf(pid, sizeof pid, "%d\n", getpid());
	put(CG, "cgroup.procs", pid);
	if (path[0])
		unlink(path);
	/* Pages still charged to the group (swap entries of anon) keep rmdir busy until they are gone. */
	put(group, "memory.force_empty", "0\n");
	rmdir(group);
}

/* 1 when swap is on and every swap area is a zram device, else 0. */
static int zram_swap_only(void)
{
	char line[512];
	FILE *f = fopen("/proc/swaps", "r");
	int n = 0, zram = 1;
	if (!f)
		return 0;
	if (!fgets(line, sizeof line, f)) {	/* the header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof line, f)) {
		n++;
		if (strncmp(line, "/dev/zram", 9))
			zram = 0;
	}
	fclose(f);
	return n > 0 && zram;
}

/* The bench's memory group (root and cgroup v1 only); removed at exit. */
static int make_group(void)
{
	snprintf(group, sizeof group, CG "/mmsim-bench-%d", getpid());
	if (geteuid() != 0 || mkdir(group, 0755))
		return 2;
	atexit(cleanup);
	return 0;
}

/* Sets the group's limit and moves this process into it. */
static int enter_group(long limit_mib)
{
	char text[64], pid[32];
	snprintf(text, sizeof text, "%ld\n", limit_mib << 20);
	snprintf(pid, sizeof pid, "%d\n", getpid());
	return put(group, "memory.limit_in_bytes", text) || put(group, "cgroup.procs", pid) ? 2 : 0;
}

static int anon(long mib, long limit_mib, long passes)
{
	if (!zram_swap_only())
		return 3;
	if (make_group())
		return 2;
	size_t len = (size_t)mib << 20;
	/* Mapped (and its page tables made by the first pass) inside the group, as mmsim's child does. */
	if (enter_group(limit_mib))
		return 2;
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return 2;
	madvise(a, len, MADV_NOHUGEPAGE);
	long steal0 = vmstat("pgsteal_anon"), out0 = vmstat("pswpout");
	double t0 = cpu_s();
	for (long p = 0; p < passes; p++)
		for (size_t off = 0; off < len; off += 4096)
			((volatile char *)a)[off] = 1;
	double dt = cpu_s() - t0;
	long steal = vmstat("pgsteal_anon") - steal0, out = vmstat("pswpout") - out0;
	munmap(a, len);
	printf("{\"pages_reclaimed\":%ld,\"swapped_out\":%ld,\"cpu_s\":%.6f,\"pages_per_s\":%.1f}\n", steal, out, dt, steal / dt);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5)
		return 2;
	long file_mib = atol(argv[2]), limit_mib = atol(argv[3]), passes = atol(argv[4]);
	if (!strcmp(argv[1], "anon"))
		return anon(file_mib, limit_mib, passes);
	if (strcmp(argv[1], "stream"))
		return 2;
	snprintf(path, sizeof path, "/var/tmp/mmsim-bench-%d", getpid());
	if (make_group())
		return 2;
	/* The file is written outside the group, then dropped from the page cache. */
	static char buf[CHUNK];
	memset(buf, 0x5a, sizeof buf);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 2;
	for (long off = 0; off < file_mib << 20; off += CHUNK)
		if (write(fd, buf, CHUNK) != CHUNK)
			return 2;
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (enter_group(limit_mib))
		return 2;
	long out0 = vmstat("pgsteal_file");
	double t0 = cpu_s();
	for (long p = 0; p < passes; p++)
		for (off_t off = 0; off < file_mib << 20; off += CHUNK)
			if (pread(fd, buf, CHUNK, off) != CHUNK)
				return 2;
	double dt = cpu_s() - t0;
	long out = vmstat("pgsteal_file") - out0;
	close(fd);
	printf("{\"pages_reclaimed\":%ld,\"cpu_s\":%.6f,\"pages_per_s\":%.1f}\n", out, dt, out / dt);
	return 0;
}
