/*
 * visible.c: the one place access control decides what the activity stream describes.
 */
#include "discovery/visible.h"

/*
 * Every Collection and Manifest document is public, also under an access policy: it is what
 * names the services that lead a reader to access (auth/, docs/access.md), and what it carries
 * of protected images, media and text are references that ask for access themselves. So the
 * stream describes every one, as far as its document does; a policy change is an Update of the
 * resources it governs (scan.c). A policy that hid documents would return false here.
 */
bool discovery_visible(const char *path)
{
	(void)path;
	return true;
}
