/*
 * ht_guard_child.h: one HTJ2K check, `iiifd verify-codestream` run in a child process by
 * posix_spawn (never fork() of the threaded server) and its verdict read back. Private to
 * ht_guard.c.
 */
#ifndef IIIFD_IMAGE_HT_GUARD_CHILD_H
#define IIIFD_IMAGE_HT_GUARD_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "storage/root.h"

enum ht_guard_verdict {
	HT_GUARD_GOOD = 1,     /* every code-block decoded */
	HT_GUARD_BAD = 0,      /* a decode error, a crash, or the CPU limit: reason says which */
	HT_GUARD_NO_VERDICT = -1, /* the check could not run or the file changed: try again later */
};

struct ht_guard_check {
	const char *path;                  /* a location (storage/root.h) */
	const struct storage_stat *version; /* the version probed; a local file must still be it */
	const char *tmp_dir;               /* for the unlinked copy of a remote file */
	int cpu_seconds;                   /* RLIMIT_CPU of the child */
	pid_t *running;                    /* set to the child's pid while it runs, then 0 */
};

/* Runs the check; reason (n bytes) says why for BAD and NO_VERDICT. */
enum ht_guard_verdict ht_guard_child_run(const struct ht_guard_check *c, char *reason, size_t n);

#endif
