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

#endif
