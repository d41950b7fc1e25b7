/*
 * discovery.h: what other areas tell Change Discovery about changes their files do not show.
 */
#ifndef IIIFD_DISCOVERY_DISCOVERY_H
#define IIIFD_DISCOVERY_DISCOVERY_H

struct db;

/*
 * The Manifest or Collection at path (below the root) was edited through iiifd (the annotation
 * write API): it gets an Update at the next sync, which this asks for now. Errors are logged.
 */
void discovery_note_edit(struct db *db, const char *path);

/*
 * An annotation import committed: it marked, in its own transaction, the Manifests whose
 * listing it changed (db/); this asks for a sync now. A Manifest it did not mark (a replaced
 * OCR file that lists the same pages) is the scan's one Update of the file's change.
 */
void discovery_note_import(void);

#endif
