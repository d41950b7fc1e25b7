/*
 * rights.h: the rights statements IIIF accepts in `rights` (Presentation 3 §3.3.1, Image 3
 * §5.4): a Creative Commons license or public domain tool, or a RightsStatements.org statement,
 * written as the specifications require (http, the canonical path, a trailing slash).
 */
#ifndef IIIFD_CORE_RIGHTS_H
#define IIIFD_CORE_RIGHTS_H

#include <stddef.h>

enum rights_result {
	RIGHTS_OK,         /* in is already canonical */
	RIGHTS_NORMALISED, /* in names a statement, written another way (https, deed.fr, www.) */
	RIGHTS_INVALID,    /* not a statement IIIF accepts */
};

/*
 * Checks in and writes its canonical form to out (n bytes; at least as long as in plus two),
 * e.g. "https://creativecommons.org/licenses/by/4.0/deed.fr" ->
 * "http://creativecommons.org/licenses/by/4.0/", "https://rightsstatements.org/page/InC/1.0/"
 * -> "http://rightsstatements.org/vocab/InC/1.0/".
 */
enum rights_result rights_normalise(const char *in, char *out, size_t n);

#endif
