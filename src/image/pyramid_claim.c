/*
 * pyramid_claim.c: a claim is either a shared store's lock (the store releases it when the
 * node's session ends) or an open-file-description lock (F_OFD_SETLK: per open(), so two
 * threads of one process exclude each other too; the kernel drops it when the holder exits).
 */
#include "image/pyramid_claim.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pyramid_claim {
	struct db *db;
	void *lock; /* the store's, or NULL */
	int fd;     /* DIR/.claims, or -1 */
};

/* The byte of DIR/.claims that stands for key: 46 bits of its digest (collisions only make two
 * builds wait for each other). */
static off_t pyramid_claim_byte(const char *key)
{
	gchar *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
	char head[12];
	memcpy(head, digest, 11);
	head[11] = '\0';
	g_free(digest);
	return (off_t)strtoll(head, NULL, 16) & ((INT64_C(1) << 46) - 1);
}

static int pyramid_claim_file(const char *dir, const char *key, int *fd,
			      struct iiifd_error *err)
{
	char *path = g_build_filename(dir, ".claims", NULL);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int saved = errno;
	if (*fd < 0) {
		iiifd_error_set(err, 500, "%s: %s", path, strerror(saved));
		g_free(path);
		return -1;
	}
	g_free(path);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = pyramid_claim_byte(key), .l_len = 1 };
	if (fcntl(*fd, F_OFD_SETLK, &fl) == 0)
		return 1;
	saved = errno;
	close(*fd);
	*fd = -1;
	if (saved == EAGAIN || saved == EACCES)
		return 0;
	return iiifd_error_set(err, 500, "%s/.claims: cannot lock: %s", dir, strerror(saved));
}

int pyramid_claim_take(struct db *db, const char *dir, const char *key,
		       struct pyramid_claim **out, struct iiifd_error *err)
{
	*out = NULL;
	struct pyramid_claim c = { .db = db_is_shared(db) ? db : NULL, .fd = -1 };
	int rc = c.db ? db_claim(c.db, key, &c.lock, err) : pyramid_claim_file(dir, key, &c.fd, err);
	if (rc != 1)
		return rc;
	*out = malloc(sizeof **out);
	if (!*out) {
		if (c.lock)
			db_source_unlock(c.db, c.lock);
		if (c.fd >= 0)
			close(c.fd);
		return iiifd_error_set(err, 500, "out of memory");
	}
	**out = c;
	return 1;
}

void pyramid_claim_release(struct pyramid_claim *claim)
{
	if (!claim)
		return;
	if (claim->lock)
		db_source_unlock(claim->db, claim->lock);
	if (claim->fd >= 0)
		close(claim->fd);
	free(claim);
}
