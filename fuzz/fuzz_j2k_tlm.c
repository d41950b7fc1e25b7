/*
 * fuzz_j2k_tlm.c: the codestream walk and in-place TLM insertion of `iiifd convert OUT.jph`
 * (src/image/j2k_tlm.c). It reads only iiifd's own encoder output, but it moves bytes by
 * offsets found in that output, so it must stay inside the stream for any input. Input: a raw
 * codestream, placed after a 16-byte prefix (as after a jp2c box header). Checks: the stream
 * grows by exactly what is reported added, and the bytes before the codestream are untouched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/j2k_tlm.h"

enum { PREFIX = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("codestream", 0);
	if (fd < 0)
		return 0;
	FILE *f = fdopen(fd, "w+b");
	if (!f) {
		close(fd);
		return 0;
	}
	static const uint8_t prefix[PREFIX] = { 0, 0, 0, 1, 'j', 'p', '2', 'c' };
	char error[200];
	if (fwrite(prefix, 1, PREFIX, f) == PREFIX && fwrite(data, 1, size, f) == size) {
		long added = j2k_insert_tlm(f, PREFIX, error, sizeof error);
		struct stat st;
		uint8_t head[PREFIX];
		if (added >= 0 && (fstat(fd, &st) != 0 ||
				   (size_t)st.st_size != PREFIX + size + (size_t)added))
			abort(); /* grew by other than what was reported */
		if (pread(fd, head, PREFIX, 0) != PREFIX || memcmp(head, prefix, PREFIX) != 0)
			abort(); /* wrote before the codestream */
	}
	fclose(f);
	return 0;
}
