/*
 * htj2k_encode.h: a C interface to OpenJPH (libopenjph, C++), the HTJ2K (JPEG 2000 Part 15)
 * encoder, kept in one C++ file (htj2k_encode.cpp). It writes a raw codestream (SOC .. EOC) to
 * a stdio stream at its current position; wrapping it in JPH boxes is htj2k_write.c's job.
 *
 * Usage: htj2k_encoder_new(), then htj2k_encoder_push_row() once per image row, top to bottom,
 * then htj2k_encoder_finish(), then htj2k_encoder_free() (always, also after an error). OpenJPH
 * holds the coded data of the whole image in memory until finish (about its compressed size)
 * plus a few rows of samples per tile row. One encoder per thread; encoders are independent.
 */
#ifndef IIIFD_IMAGE_HTJ2K_ENCODE_H
#define IIIFD_IMAGE_HTJ2K_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct htj2k_encode_params {
	uint32_t width, height;
	int bands;           /* 1 (grey) or 3 (RGB, coded with the irreversible colour transform) */
	uint32_t tile;       /* codestream tile edge in pixels */
	int decompositions;  /* wavelet levels: the image has decompositions + 1 resolutions */
	float quant_step;    /* irreversible 9/7 quantisation step (smaller is better, larger file);
			      * 0 = lossless (reversible 5/3) */
};

struct htj2k_encoder;

/* A new encoder writing to out (borrowed, must stay open until finish). NULL with a reason in
 * err (errlen bytes) when OpenJPH refuses the parameters or memory runs out. */
struct htj2k_encoder *htj2k_encoder_new(const struct htj2k_encode_params *p, FILE *out,
					char *err, size_t errlen);

/* One row of width x bands interleaved 8-bit samples. 0, or -1 with a reason in err. */
int htj2k_encoder_push_row(struct htj2k_encoder *e, const uint8_t *row, char *err,
			   size_t errlen);

/* Codes and writes the codestream after the last row. 0, or -1 with a reason in err. */
int htj2k_encoder_finish(struct htj2k_encoder *e, char *err, size_t errlen);

void htj2k_encoder_free(struct htj2k_encoder *e);

#ifdef __cplusplus
}
#endif

#endif
