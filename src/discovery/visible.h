/*
 * visible.h: which resources the public activity stream may describe.
 */
#ifndef IIIFD_DISCOVERY_VISIBLE_H
#define IIIFD_DISCOVERY_VISIBLE_H

#include <stdbool.h>

/*
 * Whether a harvester without credentials may learn that the Collection or Manifest at path
 * (below the root, "" = root) exists. The scan treats a resource that is not visible as absent:
 * it gets no activity, a resource that becomes hidden gets a Delete and one that becomes public
 * a Create, so pages already full never change. Access control MUST filter here (and nowhere
 * else in discovery/); until iiifd has access control every resource is public.
 */
bool discovery_visible(const char *path);

#endif
