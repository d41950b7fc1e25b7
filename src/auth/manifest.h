/*
 * manifest.h: Authorization Flow services on the content resources of a Presentation 3.0
 * document: a probe (and the 1.0 services) on each protected image service and A/V file, and the
 * auth context first in @context, as Auth 2.0 §2.1 asks.
 */
#ifndef IIIFD_AUTH_MANIFEST_H
#define IIIFD_AUTH_MANIFEST_H

#include <jansson.h>

#include "auth/state.h"

/* Adds the services to doc (changed in place) for the resources served at origin. a may be NULL. */
void auth_manifest_describe(struct auth_state *a, const char *origin, json_t *doc);

#endif
