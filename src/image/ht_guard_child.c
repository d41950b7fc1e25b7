/*
 * ht_guard_child.c: see ht_guard_child.h. The child gets the file as descriptor 3 (the local
 * file itself, or an unlinked copy of a remote object) and reads it as /proc/self/fd/3; its
 * standard output and error come back through one pipe: "ok" on the last line means every
 * code-block decoded.
 */
#include "image/ht_guard_child.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CHILD_FD 3
#define OUTPUT_MAX 2048
#define COPY_CHUNK (1 << 20)

/* An unlinked file in dir holding the remote object's bytes; -1 on failure. */
static int copy_remote(const char *path, const struct storage_stat *version, const char *dir,
		       char *reason, size_t n)
{
	struct storage_file *f = NULL;
	struct iiifd_error err = { 0 };
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) { /* a file system without O_TMPFILE: a named one, unlinked at once */
		char *name = g_strdup_printf("%s/copy.XXXXXX", dir);
		fd = mkostemp(name, O_CLOEXEC);
		if (fd >= 0)
			unlink(name);
		g_free(name);
	}
	char *buf = malloc(COPY_CHUNK);
	int64_t size = -1;
	if (fd >= 0 && buf && storage_file_open(path, version, &f, &err) == 0)
		size = storage_file_size(f);
	for (int64_t at = 0; size >= 0 && at < size; at += COPY_CHUNK) {
		size_t len = size - at < COPY_CHUNK ? (size_t)(size - at) : COPY_CHUNK;
		if (storage_file_pread(f, buf, len, at, &err) < 0 ||
		    pwrite(fd, buf, len, at) != (ssize_t)len)
			size = -1;
	}
	storage_file_close(f);
	free(buf);
	if (size < 0 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		snprintf(reason, n, "cannot copy the object for its check: %s",
			 err.msg[0] ? err.msg : strerror(errno));
	return fd;
}

/* The file as a descriptor for the child, still the version probed; -1 on failure. */
static int open_checked_file(const struct ht_guard_check *c, char *reason, size_t n)
{
	if (storage_spec_is_remote(c->path)) {
		/* above CHILD_FD, so that the spawn's dup2 onto it is never a no-op */
		int copy = copy_remote(c->path, c->version, c->tmp_dir, reason, n);
		int fd = copy >= 0 ? fcntl(copy, F_DUPFD_CLOEXEC, CHILD_FD + 1) : -1;
		if (copy >= 0)
			close(copy);
		return fd;
	}
	struct storage_file *f = NULL;
	struct iiifd_error err = { 0 };
	int fd = -1;
	if (storage_file_open(c->path, c->version, &f, &err) == 0 &&
	    storage_file_verify(f, c->version, &err) == 0)
		fd = fcntl(storage_file_fd(f), F_DUPFD_CLOEXEC, CHILD_FD + 1);
	storage_file_close(f);
	if (fd < 0)
		snprintf(reason, n, "%s", err.msg[0] ? err.msg : "cannot open the file");
	return fd;
}

static pid_t spawn_child(int file_fd, int out_fd, int cpu_seconds)
{
	char cpu[16];
	snprintf(cpu, sizeof cpu, "%d", cpu_seconds);
	char fd_path[32];
	snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", CHILD_FD);
	char *argv[] = { "iiifd", "verify-codestream", "--cpu-seconds", cpu, fd_path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	posix_spawn_file_actions_adddup2(&fa, file_fd, CHILD_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, CHILD_FD + 1); /* sockets, databases */
	/* the server blocks SIGTERM/SIGINT/SIGHUP and ignores SIGPIPE: not the child */
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &defaults);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid = 0;
	if (posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return pid;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the child's output until it closes the pipe or the deadline; the last OUTPUT_MAX - 1
 * bytes are kept. Returns 0, or -1 at the deadline. */
static int read_output(int fd, int64_t deadline_ms, char *out)
{
	size_t len = 0;
	char buf[512];
	for (;;) {
		int64_t left = deadline_ms - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)(left < 1000 ? left : 1000)) < 0) {
			if (left <= 0 || errno != EINTR)
				return -1;
			continue;
		}
		if (!p.revents)
			continue;
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if (len + (size_t)r >= OUTPUT_MAX) { /* keep the end: the verdict line is last */
			size_t drop = len + (size_t)r - (OUTPUT_MAX - 1);
			drop = drop < len ? drop : len;
			memmove(out, out + drop, len - drop);
			len -= drop;
		}
		size_t take = (size_t)r < OUTPUT_MAX - 1 - len ? (size_t)r : OUTPUT_MAX - 1 - len;
		memcpy(out + len, buf + r - take, take);
		len += take;
		out[len] = '\0';
	}
}

/* The verdict from how the child ended and what it printed. */
static enum ht_guard_verdict judge(int status, const char *out, int cpu_seconds, char *reason,
				   size_t n)
{
	size_t len = strlen(out);
	bool said_ok = len >= 3 && strcmp(out + len - 3, "ok\n") == 0 &&
		       (len == 3 || out[len - 4] == '\n');
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && said_ok)
		return HT_GUARD_GOOD;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) { /* by ht_guard_stop, or OOM */
		snprintf(reason, n, "the check was killed");
		return HT_GUARD_NO_VERDICT;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
		snprintf(reason, n, "its decode took more than %d s of CPU time", cpu_seconds);
		return HT_GUARD_BAD;
	}
	if (WIFSIGNALED(status)) {
		snprintf(reason, n, "OpenJPEG stopped on signal %d (%s) decoding it",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		return HT_GUARD_BAD;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1) { /* the child's own error line */
		const char *line = out;
		for (const char *p = strchr(out, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
			line = p + 1;
		snprintf(reason, n, "%.*s", (int)strcspn(line, "\n"), line);
		return HT_GUARD_BAD;
	}
	snprintf(reason, n, "the check exited with status %d", WEXITSTATUS(status));
	return HT_GUARD_NO_VERDICT;
}

enum ht_guard_verdict ht_guard_child_run(const struct ht_guard_check *c, char *reason, size_t n)
{
	int file_fd = open_checked_file(c, reason, n);
	if (file_fd < 0)
		return HT_GUARD_NO_VERDICT;
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(file_fd);
		snprintf(reason, n, "pipe: %s", strerror(errno));
		return HT_GUARD_NO_VERDICT;
	}
	pid_t pid = spawn_child(file_fd, out[1], c->cpu_seconds);
	close(out[1]);
	close(file_fd);
	if (pid < 0) {
		close(out[0]);
		snprintf(reason, n, "cannot start the check: %s", strerror(errno));
		return HT_GUARD_NO_VERDICT;
	}
	__atomic_store_n(c->running, pid, __ATOMIC_RELEASE);
	char output[OUTPUT_MAX] = "";
	/* the child is niced and limited in CPU time; wall time beyond that means it is stuck */
	bool stuck = read_output(out[0], now_ms() + (int64_t)c->cpu_seconds * 4000 + 30000,
				 output) < 0;
	if (stuck)
		kill(pid, SIGKILL);
	close(out[0]);
	/* cleared before the child is reaped, so that its pid cannot be another's when killed */
	__atomic_store_n(c->running, 0, __ATOMIC_RELEASE);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (stuck) {
		snprintf(reason, n, "the check did not finish in time");
		return HT_GUARD_NO_VERDICT;
	}
	return judge(status, output, c->cpu_seconds, reason, n);
}
