/*
 * ingest.h: bringing annotation source files of the tree (ALTO, hOCR, WebVTT, COCO, CSV) into
 * the store: finding the Canvas each belongs to, parsing, and replacing what an earlier version
 * of the file gave, all or nothing. Used by `iiifd import` and, in the background, by the server.
 */
#ifndef IIIFD_ANNOTATION_INGEST_H
#define IIIFD_ANNOTATION_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "db/db.h"
#include "presentation/context.h"

enum ingest_format { INGEST_NONE, INGEST_ALTO, INGEST_HOCR, INGEST_VTT, INGEST_COCO, INGEST_CSV,
		     INGEST_YOLO };

/*
 * The format of a file by its name: .xml (ALTO, or PAGE XML by its namespace), .hocr, .vtt,
 * .json (COCO; Label Studio when it is a list; timed segments or a Whisper transcript when an
 * audio/video file has its name), .csv (tags; timed segments when the header has start and
 * end), .txt (YOLO labels; not classes.txt, the class list). Sidecars (.yml) and anything else
 * are INGEST_NONE.
 */
enum ingest_format ingest_format_of(const char *name);

/*
 * Below a remote root (an S3 bucket), a source file is read whole into memory for its parser:
 * a larger object is refused with 413 naming it (import it from a local copy instead).
 */
#define INGEST_REMOTE_MAX_BYTES ((size_t)256 << 20)

/*
 * Imports the source file rel (path below the root) unless the store already has this version
 * of it (force: import anyway). ALTO/hOCR attach to the image with the same name, WebVTT to the
 * audio/video file ("talk.vtt", "talk.en.vtt" -> "talk.*"), COCO and CSV to the images they
 * name, relative to their own folder. Returns the number of records stored (0 when it was
 * current), or -1 with err naming the file, and the line and problem for malformed files.
 */
int ingest_file(struct db *db, const struct pres_context *c, const char *rel, bool force,
		struct iiifd_error *err);

/* What `iiifd import` may add to an import (NULL: nothing). */
struct ingest_options {
	bool has_min_score;
	double min_score;      /* records with a lower score are left out (unscored ones kept) */
	const char *generator; /* for records whose file names none (model name and version) */
};

/* ingest_file() with options. */
int ingest_file_with(struct db *db, const struct pres_context *c, const char *rel, bool force,
		     const struct ingest_options *opts, struct iiifd_error *err);

/* Parses rel as ingest_file() would, storing nothing: 0, or -1 with the same message. */
int ingest_validate(const struct pres_context *c, const char *rel, struct iiifd_error *err);

struct ingest_queue;

/*
 * How many files to import at once into db, for the import-workers setting (configured): 1 for
 * SQLite (one writer at a time); for a shared store (each file has its own transaction,
 * connection and per-source lock) that number when set, else min(4, cores); at most a quarter
 * of pool, the connections the process may open (each import holds two).
 */
int ingest_workers(const struct db *db, int configured, int pool);

/*
 * A background importer for the server, importing up to workers files at once (see
 * ingest_workers()); c's strings and caches must outlive it. Files larger than max_bytes (0: no
 * limit) are skipped, with one log line each (`iiifd import` takes them).
 */
struct ingest_queue *ingest_queue_new(struct db *db, const struct pres_context *c,
				      int64_t max_bytes, int workers);
/* Waits for the running imports, drops queued ones. */
void ingest_queue_free(struct ingest_queue *q);

/* Queues every annotation source file in folder rel (companions) that is not yet current. */
void ingest_queue_folder(struct ingest_queue *q, const char *rel, char *const *companions,
			 size_t count);

/*
 * Waits up to timeout_ms for the queued sources directly in folder rel to be imported (each
 * file is imported once, however many requests wait for it). Returns true when none is left.
 */
bool ingest_queue_wait(struct ingest_queue *q, const char *rel, int timeout_ms);

/* Whether source file src (a path below the root) is queued or being imported. */
bool ingest_queue_pending(struct ingest_queue *q, const char *src);

/* Whether ingest_queue_folder() has checked folder rel's files since the server started. */
bool ingest_queue_seen(struct ingest_queue *q, const char *rel);

#endif
