/*
 * verify_codestream.h: `iiifd verify-codestream FILE`, the HTJ2K check image/ht_guard.c runs
 * in a child process (not in --help; docs/tools.md).
 */
#ifndef IIIFD_TOOLS_VERIFY_CODESTREAM_H
#define IIIFD_TOOLS_VERIFY_CODESTREAM_H

#include <stddef.h>

/* Decodes every code-block of the JPEG 2000 file at path in this process (which OpenJPEG 2.5.0
 * may abort): 0, or -1 with OpenJPEG's error in error (n bytes). */
int tools_verify_codestream(const char *path, char *error, size_t n);

/* argv: the words after "verify-codestream". Exit code: 0 every code-block decoded ("ok"
 * printed), 1 a decode error (printed), 2 usage. */
int tools_verify_codestream_main(int argc, char **argv);

#endif
