/* version.h: the release number, printed by --version and /health. */
#ifndef IIIFD_VERSION_H
#define IIIFD_VERSION_H
#define IIIFD_VERSION "0.1.0"
#endif
