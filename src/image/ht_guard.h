/*
 * ht_guard.h: JPEG 2000 files with HTJ2K code-blocks are decoded in a child process once per
 * version (`iiifd verify-codestream`) before the server decodes them itself. Debian 12's
 * OpenJPEG 2.5.0 aborts the whole process on an assert() for some malformed HT code-blocks; a
 * file whose every code-block decoded in the child cannot reach those asserts in the server
 * (a decode of any region or level decodes a subset of the same code-blocks).
 *
 * Verdicts are kept in memory and in STATE_DIR (one small file per file and version: a local
 * file by device and inode, so hard links share one check; a remote one by location), so a
 * restart does not check again. Checks run in the background, at most `concurrency` at a time,
 * each child niced and limited in CPU time and address space (4 GiB, not in sanitizer builds).
 * The probe starts a check and does not wait for it; a render of a file being checked waits for
 * the verdict up to wait_ms, then gets 503 (Retry-After).
 * Remote files (s3://, http(s)://) are copied to an unlinked temporary file in STATE_DIR that
 * the child reads: one whole read of the object per check.
 */
#ifndef IIIFD_IMAGE_HT_GUARD_H
#define IIIFD_IMAGE_HT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "storage/root.h"

struct ht_guard_options {
	const char *state_dir; /* verdicts and temporary copies; created if missing */
	int concurrency;       /* checks at once, >= 1 */
	int wait_ms;           /* how long a request waits for a verdict before 503 */
	int cpu_seconds;       /* CPU time a check may use for a file of up to 64 MiB */
	int cpu_seconds_per_64mb; /* and for every further 64 MiB of file */
};

/*
 * Starts the guard for this process (copies opt; the child is /proc/self/exe). Until then, and
 * after ht_guard_stop(), ht_guard_admit() admits everything (command-line tools, the child).
 * When state_dir cannot be made or written, verdicts are kept in memory only (a warning is
 * logged) and remote copies go to the system's temporary folder. Returns 0, or -1 with err set
 * (no worker thread could start).
 */
int ht_guard_start(const struct ht_guard_options *opt, struct iiifd_error *err);
/* Kills running checks (no verdict kept for them) and waits for the workers; once per process:
 * the guard cannot be started again. */
void ht_guard_stop(void);
bool ht_guard_active(void);

/*
 * Whether the HTJ2K file at path, in version (as probed), may be decoded in this process,
 * starting its check when it has no verdict. 0: yes (checked good, or the guard is off). -1
 * with err: 500 when its check failed (logged once with the path); with wait, 503 while it is
 * still being checked after wait_ms, or when too many checks are waiting. Without wait, 1
 * instead of those 503s.
 */
int ht_guard_admit(const char *path, const struct storage_stat *version, bool wait,
		   struct iiifd_error *err);

/* The defaults for the server (concurrency from the cores, wait from the request timeout). */
struct ht_guard_options ht_guard_defaults(const char *state_dir, int request_timeout_s);

#endif
