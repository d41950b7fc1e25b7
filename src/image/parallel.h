/*
 * parallel.h: spreads the items of one request's job (tile decodes) over a process-wide pool of
 * one thread per core. The calling thread works on items too, so a job never waits for the pool:
 * when every core is busy with other requests (helpers of other jobs are queued), the caller
 * simply does all items itself, without waking any thread.
 */
#ifndef IIIFD_IMAGE_PARALLEL_H
#define IIIFD_IMAGE_PARALLEL_H

/*
 * Calls fn(user, i) once for each i in [0, n), on this thread and pool threads, and returns when
 * all calls have returned. fn must be safe to run concurrently for different i.
 */
void parallel_for(int n, void (*fn)(void *user, int i), void *user);

#endif
