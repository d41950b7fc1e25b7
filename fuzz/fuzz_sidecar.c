/*
 * fuzz_sidecar.c: YAML sidecars (src/presentation/sidecar*.c): syntax, limits, UTF-8, and the
 * conversion of every property. Input: the file's bytes, handed over through a memfd so that
 * the real reader (open, size check, read) runs too.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "presentation/sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("sidecar", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		struct sidecar sc;
		struct sidecar_problems problems = { 0 };
		sidecar_load(path, &sc, &problems);
		sidecar_release(&sc);
	}
	close(fd);
	return 0;
}
