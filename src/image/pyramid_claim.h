/*
 * pyramid_claim.h: who builds a pyramid. A claim per pyramid: cluster-wide through a shared
 * store (a PostgreSQL advisory lock, db_claim()), else a lock on one byte of DIR/.claims that
 * the processes of one machine sharing DIR see. Either is released when its holder dies, so a
 * build that a crash interrupted is taken over by the next process that wants it.
 */
#ifndef IIIFD_IMAGE_PYRAMID_CLAIM_H
#define IIIFD_IMAGE_PYRAMID_CLAIM_H

#include "core/error.h"
#include "db/db.h"

struct pyramid_claim;

/*
 * Claims the build of key (a pyramid's file name in dir) with db when it is shared (NULL or a
 * local store: the lock file in dir). 1: claimed, *out set (free with pyramid_claim_release());
 * 0: another process holds it; -1: cannot tell, err set.
 */
int pyramid_claim_take(struct db *db, const char *dir, const char *key,
		       struct pyramid_claim **out, struct iiifd_error *err);
void pyramid_claim_release(struct pyramid_claim *claim);

#endif
