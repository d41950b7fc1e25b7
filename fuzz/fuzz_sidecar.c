/*
 * fuzz_sidecar.c: YAML sidecars (src/presentation/sidecar*.c, sidecar_load()): manifest.yml,
 * collection.yml and {file}.yml, written by whoever fills the image folders. The input is the
 * whole file; every problem must be reported, never crash or loop.
 */
#include <stdint.h>

#include "fuzz_input.h"
#include "presentation/sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file("manifest.yml", data, size);
	if (!path)
		return 0;
	struct sidecar sc = { 0 };
	struct sidecar_problems problems = { 0 };
	sidecar_load(path, &sc, &problems);
	if (problems.count < 0)
		abort();
	sidecar_release(&sc);
	return 0;
}
