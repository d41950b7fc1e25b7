/*
 * import.h: `iiifd import PATH...`: brings annotation files (ALTO, hOCR, WebVTT, COCO, CSV) below
 * the root into the annotation store now, reporting each file's count or problem.
 */
#ifndef IIIFD_TOOLS_IMPORT_H
#define IIIFD_TOOLS_IMPORT_H

/* argv: the words after "import". Returns the exit code: 0 all imported, 1 any failed, 2 usage. */
int tools_import_main(int argc, char **argv);

#endif
