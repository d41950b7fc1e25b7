/*
 * check.h: `iiifd check ROOT`: every problem in a tree (unservable or damaged files, sidecar
 * errors with file and line), and a non-zero exit when there is any.
 */
#ifndef IIIFD_TOOLS_CHECK_H
#define IIIFD_TOOLS_CHECK_H

/* argv: the words after "check". Returns the exit code: 0 clean, 1 problems, 2 usage. */
int tools_check_main(int argc, char **argv);

#endif
