/*
 * cache.h: `iiifd cache purge [IDENTIFIER]`: removing rendered images from the disk cache,
 * all of them or those of one source image.
 */
#ifndef IIIFD_TOOLS_CACHE_H
#define IIIFD_TOOLS_CACHE_H

/* argv: the words after "cache". Returns the process exit code (0, 1 failure, 2 usage). */
int tools_cache_main(int argc, char **argv);

#endif
