/* genimage: write a photo-like synthetic RGB image for `make bench`.
 *
 *   genimage OUT WIDTH HEIGHT [SEED]
 *
 * The image is smooth multi-scale structure (several octaves of Perlin noise, tinted per band, plus
 * a Worley layer for cell-like edges) with per-pixel Gaussian grain on top, so that it compresses
 * like a real scan rather than like a flat test card: JPEG Q90 gives a few bits per pixel, every
 * zoom level has detail, and no two tiles are alike. Everything is one libvips pipeline, so
 * nothing larger than a few tiles is ever in memory; OUT can be any format vips can save
 * (bench/run writes a .v file and converts it with the vips CLI).
 */
#include <stdio.h>
#include <stdlib.h>
#include <vips/vips.h>

static VipsImage *perlin(VipsObject *ctx, int w, int h, int cell, int seed)
{
    VipsImage *out;
    if (vips_perlin(&out, w, h, "cell_size", cell, "seed", seed, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, out);
    return out;
}

/* a * k + b (band-wise constants), keeps float */
static VipsImage *lin(VipsObject *ctx, VipsImage *in, double k, double b)
{
    VipsImage *out;
    if (vips_linear1(in, &out, k, b, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, out);
    return out;
}

static VipsImage *add(VipsObject *ctx, VipsImage *a, VipsImage *b)
{
    VipsImage *out;
    if (vips_add(a, b, &out, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, out);
    return out;
}

static VipsImage *mul(VipsObject *ctx, VipsImage *a, VipsImage *b)
{
    VipsImage *out;
    if (vips_multiply(a, b, &out, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, out);
    return out;
}

int main(int argc, char **argv)
{
    if (VIPS_INIT(argv[0]))
        vips_error_exit(NULL);
    if (argc < 4) {
        fprintf(stderr, "usage: %s OUT WIDTH HEIGHT [SEED]\n", argv[0]);
        return 2;
    }
    const char *outname = argv[1];
    int w = atoi(argv[2]), h = atoi(argv[3]);
    int seed = argc > 4 ? atoi(argv[4]) : 1;
    if (w < 1 || h < 1) {
        fprintf(stderr, "genimage: bad size\n");
        return 2;
    }
    VipsObject *ctx = VIPS_OBJECT(vips_image_new());

    /* luminance: octaves of Perlin noise (range about -1..1 each), coarse to fine */
    VipsImage *lum = lin(ctx, perlin(ctx, w, h, 3000, seed), 70, 0);
    lum = add(ctx, lum, lin(ctx, perlin(ctx, w, h, 700, seed + 1), 40, 0));
    lum = add(ctx, lum, lin(ctx, perlin(ctx, w, h, 120, seed + 2), 22, 0));
    lum = add(ctx, lum, lin(ctx, perlin(ctx, w, h, 24, seed + 3), 10, 0));

    /* Worley distance: cell-like ridges, something with edges for the eye and the encoder */
    VipsImage *wor;
    if (vips_worley(&wor, w, h, "cell_size", 400, "seed", seed + 4, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, wor);
    lum = add(ctx, lum, lin(ctx, wor, -0.12, 20)); /* worley is 0..~cell, darker far from points */
    /* hard-edged shapes at two scales (thresholded noise), like objects and text strokes */
    VipsImage *edges1, *edges2;
    if (vips_moreeq_const1(perlin(ctx, w, h, 900, seed + 5), &edges1, 0.15, NULL) ||
        vips_moreeq_const1(perlin(ctx, w, h, 60, seed + 6), &edges2, 0.3, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, edges1);
    vips_object_local(ctx, edges2);
    lum = add(ctx, lum, lin(ctx, edges1, 45.0 / 255, -20));      /* 0/255 masks */
    lum = add(ctx, lum, lin(ctx, edges2, -30.0 / 255, 0));
    lum = lin(ctx, lum, 1.3, 125);

    /* colour: a slowly varying tint per band, 0.6..1.4 */
    VipsImage *tint[3];
    for (int b = 0; b < 3; b++)
        tint[b] = lin(ctx, perlin(ctx, w, h, 2500, seed + 10 + b), 0.7, 1.0);
    VipsImage *bands[3];
    for (int b = 0; b < 3; b++)
        bands[b] = mul(ctx, lum, tint[b]);
    VipsImage *rgb;
    if (vips_bandjoin(bands, &rgb, 3, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, rgb);

    /* grain: independent Gaussian noise in each band, like film grain / sensor noise */
    VipsImage *noise[3];
    for (int b = 0; b < 3; b++) {
        if (vips_gaussnoise(&noise[b], w, h, "sigma", 4.0, "mean", 0.0, "seed", seed + 20 + b, NULL))
            vips_error_exit(NULL);
        vips_object_local(ctx, noise[b]);
    }
    VipsImage *grain;
    if (vips_bandjoin(noise, &grain, 3, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, grain);
    rgb = add(ctx, rgb, grain);

    VipsImage *u8, *srgb;
    if (vips_cast(rgb, &u8, VIPS_FORMAT_UCHAR, NULL)) /* clips to 0..255 */
        vips_error_exit(NULL);
    vips_object_local(ctx, u8);
    if (vips_copy(u8, &srgb, "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
        vips_error_exit(NULL);
    vips_object_local(ctx, srgb);
    if (vips_image_write_to_file(srgb, outname, NULL))
        vips_error_exit(NULL);
    g_object_unref(ctx);
    vips_shutdown();
    return 0;
}
