/*
 * convert.h: `iiifd convert IN OUT.tif`, any readable image to the pyramidal, tiled, JPEG-compressed
 * TIFF that iiifd serves fastest (each tile request reads one stored tile of the nearest level).
 */
#ifndef IIIFD_TOOLS_CONVERT_H
#define IIIFD_TOOLS_CONVERT_H

#include <stdint.h>

/*
 * Runs the command on the arguments after "convert". Prints errors naming the file to stderr.
 * Returns the exit status: 0 done, 1 the conversion failed (no OUT is left behind), 2 usage.
 */
int tools_convert_main(int argc, char **argv);

#endif
