/*
 * The real kernel's side of mmsim's reclaim row (bench/reclaim_rows.ts runs
 * it in the same `npm run bench`): a file larger than a memory cgroup's
 * limit is read from start to end a few times, so every page read evicts an
 * older one. Prints one JSON object: the pages reclaimed (/proc/vmstat
 * pgsteal_file, which counts memcg reclaim too; v1's pgpgout counts
 * folios, and ext4 reads large ones) per CPU second of the reading
 * process, which is the one that reclaims (memcg reclaim runs in the
 * charging task).
 *
 * It needs root and the cgroup v1 memory controller at
 * /sys/fs/cgroup/memory; without them it prints nothing and exits 2 (the
 * bench then leaves the real side out). It makes the group
 * mmsim-bench-<pid> and the file /var/tmp/mmsim-bench-<pid>, and removes
 * both before it exits.
 *
 *   reclaim_bench FILE_MIB LIMIT_MIB PASSES
 *   cc -O2 -o reclaim_bench reclaim_bench.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	unlink(path);
	rmdir(group);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	long file_mib = atol(argv[1]), limit_mib = atol(argv[2]), passes = atol(argv[3]);
	snprintf(group, sizeof group, CG "/mmsim-bench-%d", getpid());
	snprintf(path, sizeof path, "/var/tmp/mmsim-bench-%d", getpid());
	if (geteuid() != 0 || mkdir(group, 0755))
		return 2;
	atexit(cleanup);
	char text[64], pid[32];
	snprintf(text, sizeof text, "%ld\n", limit_mib << 20);
	snprintf(pid, sizeof pid, "%d\n", getpid());
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
	if (put(group, "memory.limit_in_bytes", text) || put(group, "cgroup.procs", pid))
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
