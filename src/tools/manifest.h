/*
 * manifest.h: `iiifd manifest ROOT --public-url URL --out OUTDIR`: every Collection and Manifest
 * of a tree written as static JSON files at the paths of their URLs.
 */
#ifndef IIIFD_TOOLS_MANIFEST_H
#define IIIFD_TOOLS_MANIFEST_H

/* argv: the words after "manifest". Returns the exit code: 0 done, 1 failure, 2 usage. */
int tools_manifest_main(int argc, char **argv);

#endif
