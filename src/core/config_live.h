/*
 * config_live.h: the running configuration, replaced whole when `iiifd serve` reloads its config
 * file (SIGHUP), so that a request sees one consistent set of settings from start to end.
 *
 * Ownership rule: a published config is immutable and reference-counted. config_live_hold()
 * returns the current one with a reference that the caller gives back with config_live_drop();
 * config_live_publish() takes the caller's config (its strings move in) and makes it current;
 * the one it replaces is freed when its last holder drops it. The router holds the current config
 * around every handler call (router_handle, router_body_check) and makes it this thread's
 * config_live_now(), which is what handlers read run-time settings from.
 */
#ifndef IIIFD_CORE_CONFIG_LIVE_H
#define IIIFD_CORE_CONFIG_LIVE_H

#include "core/config.h"

/*
 * Makes *cfg the current config; takes its contents (cfg is left zeroed, nothing to release).
 * The first call also makes it the fallback of config_live_now(). -1 when out of memory (cfg is
 * then left untouched, still the caller's).
 */
int config_live_publish(struct iiifd_config *cfg);

/* The current config with a reference (NULL before the first publish); give it back. */
const struct iiifd_config *config_live_hold(void);
void config_live_drop(const struct iiifd_config *cfg);

/*
 * Holds the current config for this thread until config_live_leave(): config_live_now() returns
 * it meanwhile. Returns it. Not nested (a second enter without leave replaces the first).
 */
const struct iiifd_config *config_live_enter(void);
void config_live_leave(void);

/*
 * The config held by this thread (between enter and leave); elsewhere (background threads,
 * tools) the first one published, which stays alive until config_live_shutdown(). NULL before
 * any publish.
 */
const struct iiifd_config *config_live_now(void);

/* Drops the current config; frees every config once its holders are gone. At exit. */
void config_live_shutdown(void);

#endif
