/*
 * activity.h: `iiifd activity [ROOT]`: prints the Change Discovery log, or with --rebuild
 * appends a Refresh and re-issues every resource (the log's history is never rewritten).
 */
#ifndef IIIFD_TOOLS_ACTIVITY_H
#define IIIFD_TOOLS_ACTIVITY_H

/* argv: the words after "activity". Returns the exit code: 0 done, 1 failed, 2 usage. */
int tools_activity_main(int argc, char **argv);

#endif
