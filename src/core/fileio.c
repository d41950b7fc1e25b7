/*
 * fileio.c: whole-file writes through a temporary file and rename().
 */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* write() until all of data is written; a write that makes no progress means a full disk. */
static int fileio_write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int fileio_write_atomic(const char *path, const void *data, size_t len, bool durable)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		errno = ENOMEM;
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC), rc = -1;
	if (fd >= 0) {
		bool ok = fileio_write_all(fd, data, len) == 0 && fchmod(fd, 0644) == 0 &&
			  (!durable || fsync(fd) == 0);
		int saved = errno;
		if (close(fd) < 0 && ok)
			ok = false, saved = errno;
		if (ok && rename(tmp, path) < 0)
			ok = false, saved = errno;
		if (!ok)
			unlink(tmp);
		errno = saved;
		rc = ok ? 0 : -1;
	}
	free(tmp);
	return rc;
}
