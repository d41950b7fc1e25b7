/*
 * admission.h: deciding whether a render may start now. Small (tile-sized) and large outputs
 * have separate concurrency limits, and all renders share a memory budget; a request that cannot
 * start within its wait time is refused with 503 rather than queued without bound, and clients
 * take turns.
 */
#ifndef IIIFD_IMAGE_ADMISSION_H
#define IIIFD_IMAGE_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct admission;

/* Limits: concurrent small renders, concurrent large renders, total estimated bytes. */
struct admission *admission_new(int small_slots, int large_slots, int64_t memory_budget);
void admission_free(struct admission *a);

/*
 * Waits up to wait_ms for a slot of the right class and for bytes of budget. Returns 0 (call
 * admission_leave with the same large/bytes/client afterwards) or -1 with err: 400 when bytes
 * can never fit the budget (a permanent condition), 503 when the wait ran out (transient).
 *
 * Fairness: client (an address; NULL counts as one anonymous client) names who asks. While
 * others wait, a client holds at most half of a class's slots (at least one), and the line is
 * served round-robin between clients, so one client's burst cannot hold every slot nor keep
 * others waiting behind all of its requests. Alone, a client may use every slot.
 */
int admission_enter(struct admission *a, bool large, int64_t bytes, int wait_ms,
		    const char *client, struct iiifd_error *err);
void admission_leave(struct admission *a, bool large, int64_t bytes, const char *client);

/* Requests waiting in a class's line now (for tests and statistics). */
int admission_waiting(struct admission *a, bool large);

#endif
