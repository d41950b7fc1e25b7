/*
 * transform.c: least-squares polynomial fits (normal equations) and thin plate splines
 * (U(r) = r^2 log r with an affine part), solved by Gaussian elimination with partial
 * pivoting. Pixels are centred and scaled first so that cubic terms stay well conditioned;
 * the spline is unchanged by that (its kernel only gains terms its side conditions cancel).
 */
#include "maps/transform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Solves a (n x n, row-major, destroyed) * x = b (n x m, overwritten by x). -1 if singular. */
static int maps_solve(double *a, double *b, size_t n, size_t m)
{
	double biggest = 0;
	for (size_t i = 0; i < n * n; i++)
		biggest = fmax(biggest, fabs(a[i]));
	for (size_t col = 0; col < n; col++) {
		size_t piv = col;
		for (size_t r = col + 1; r < n; r++)
			if (fabs(a[r * n + col]) > fabs(a[piv * n + col]))
				piv = r;
		if (!(fabs(a[piv * n + col]) > 1e-12 * biggest))
			return -1;
		if (piv != col) {
			for (size_t k = 0; k < n; k++) {
				double tmp = a[col * n + k];
				a[col * n + k] = a[piv * n + k], a[piv * n + k] = tmp;
			}
			for (size_t k = 0; k < m; k++) {
				double tmp = b[col * m + k];
				b[col * m + k] = b[piv * m + k], b[piv * m + k] = tmp;
			}
		}
		for (size_t r = 0; r < n; r++) {
			if (r == col || a[r * n + col] == 0)
				continue;
			double f = a[r * n + col] / a[col * n + col];
			for (size_t k = col; k < n; k++)
				a[r * n + k] -= f * a[col * n + k];
			for (size_t k = 0; k < m; k++)
				b[r * m + k] -= f * b[col * m + k];
		}
	}
	for (size_t r = 0; r < n; r++)
		for (size_t k = 0; k < m; k++)
			b[r * m + k] /= a[r * n + r];
	return 0;
}

/* The monomials 1, x, y, x^2, xy, y^2, x^3, x^2y, xy^2, y^3 up to terms. */
static void maps_monomials(double x, double y, size_t terms, double *out)
{
	double all[10] = { 1, x, y, x * x, x * y, y * y, x * x * x, x * x * y, x * y * y, y * y * y };
	memcpy(out, all, terms * sizeof *out);
}

static double maps_kernel(double dx, double dy)
{
	double r2 = dx * dx + dy * dy;
	return r2 > 0 ? 0.5 * r2 * log(r2) : 0; /* r^2 log r */
}

static void maps_normalise(const struct maps_transform *t, double x, double y, double *nx,
			   double *ny)
{
	*nx = (x - t->cx) / t->scale;
	*ny = (y - t->cy) / t->scale;
}

static int maps_fit_polynomial(const struct maps_georef *g, struct maps_transform *t)
{
	size_t m = t->terms;
	double ata[100] = { 0 }, atb[20] = { 0 }, row[10];
	for (size_t i = 0; i < g->count; i++) {
		double x, y;
		maps_normalise(t, g->gcps[i].x, g->gcps[i].y, &x, &y);
		maps_monomials(x, y, m, row);
		for (size_t r = 0; r < m; r++) {
			for (size_t c = 0; c < m; c++)
				ata[r * m + c] += row[r] * row[c];
			atb[r * 2] += row[r] * g->gcps[i].lon;
			atb[r * 2 + 1] += row[r] * g->gcps[i].lat;
		}
	}
	if (maps_solve(ata, atb, m, 2) < 0)
		return -1;
	t->coef = malloc(2 * m * sizeof *t->coef);
	if (!t->coef)
		return -1;
	memcpy(t->coef, atb, 2 * m * sizeof *t->coef);
	return 0;
}

static int maps_fit_spline(const struct maps_georef *g, struct maps_transform *t)
{
	size_t n = g->count, s = n + 3;
	double *a = calloc(s * s, sizeof *a), *b = calloc(s * 2, sizeof *b);
	t->points = malloc(2 * n * sizeof *t->points);
	int rc = -1;
	if (!a || !b || !t->points)
		goto out;
	for (size_t i = 0; i < n; i++)
		maps_normalise(t, g->gcps[i].x, g->gcps[i].y, &t->points[2 * i],
			       &t->points[2 * i + 1]);
	for (size_t i = 0; i < n; i++) {
		double xi = t->points[2 * i], yi = t->points[2 * i + 1];
		for (size_t j = 0; j < n; j++)
			a[i * s + j] = maps_kernel(xi - t->points[2 * j], yi - t->points[2 * j + 1]);
		double p[3] = { 1, xi, yi };
		for (size_t k = 0; k < 3; k++)
			a[i * s + n + k] = a[(n + k) * s + i] = p[k];
		b[i * 2] = g->gcps[i].lon;
		b[i * 2 + 1] = g->gcps[i].lat;
	}
	if (maps_solve(a, b, s, 2) < 0)
		goto out;
	t->coef = b;
	b = NULL;
	t->n = n;
	rc = 0;
out:
	free(a);
	free(b);
	return rc;
}

/* Centre and scale of the GCP pixels. */
static void maps_frame(const struct maps_georef *g, struct maps_transform *t)
{
	double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
	for (size_t i = 0; i < g->count; i++) {
		minx = fmin(minx, g->gcps[i].x), maxx = fmax(maxx, g->gcps[i].x);
		miny = fmin(miny, g->gcps[i].y), maxy = fmax(maxy, g->gcps[i].y);
	}
	t->cx = (minx + maxx) / 2;
	t->cy = (miny + maxy) / 2;
	t->scale = fmax(fmax(maxx - minx, maxy - miny) / 2, 1e-9);
}

int maps_gcps_collinear(const struct maps_georef *g)
{
	if (g->count < 3)
		return 0;
	struct maps_transform t = { 0 };
	maps_frame(g, &t);
	double sxx = 0, syy = 0, sxy = 0, mx = 0, my = 0, n = (double)g->count;
	for (size_t i = 0; i < g->count; i++) {
		mx += (g->gcps[i].x - t.cx) / t.scale / n;
		my += (g->gcps[i].y - t.cy) / t.scale / n;
	}
	for (size_t i = 0; i < g->count; i++) {
		double dx = (g->gcps[i].x - t.cx) / t.scale - mx, dy = (g->gcps[i].y - t.cy) / t.scale - my;
		sxx += dx * dx / n, syy += dy * dy / n, sxy += dx * dy / n;
	}
	/* the smaller spread of the points, across their main direction, is tiny */
	double tr = sxx + syy, det = sxx * syy - sxy * sxy;
	double small = tr / 2 - sqrt(fmax(tr * tr / 4 - det, 0));
	return small < 1e-8;
}

int maps_transform_fit(const struct maps_georef *g, struct maps_transform *t, char *msg,
		       size_t size)
{
	memset(t, 0, sizeof *t);
	if (g->count < 3) {
		snprintf(msg, size, "%zu GCPs: at least 3 are needed to transform", g->count);
		return -1;
	}
	if (maps_gcps_collinear(g)) {
		snprintf(msg, size, "the GCPs lie on one line: no transformation fits them");
		return -1;
	}
	maps_frame(g, t);
	t->type = g->type;
	t->order = g->order < 1 ? 1 : g->order > 3 ? 3 : g->order;
	if (t->type == MAPS_POLYNOMIAL)
		while (t->order > 1 && g->count < maps_needed_gcps(MAPS_POLYNOMIAL, t->order))
			t->order--;
	t->terms = t->order == 1 ? 3 : t->order == 2 ? 6 : 10;
	int rc = t->type == MAPS_THIN_PLATE_SPLINE ? maps_fit_spline(g, t)
						   : maps_fit_polynomial(g, t);
	if (rc < 0) {
		maps_transform_release(t);
		snprintf(msg, size, "the GCPs do not determine a transformation");
	}
	return rc;
}

void maps_transform_apply(const struct maps_transform *t, double x, double y, double *lon,
			  double *lat)
{
	double nx, ny;
	maps_normalise(t, x, y, &nx, &ny);
	double out[2] = { 0, 0 };
	if (t->type == MAPS_POLYNOMIAL) {
		double row[10];
		maps_monomials(nx, ny, t->terms, row);
		for (size_t k = 0; k < t->terms; k++)
			for (int d = 0; d < 2; d++)
				out[d] += row[k] * t->coef[k * 2 + d];
	} else {
		for (size_t i = 0; i < t->n; i++) {
			double u = maps_kernel(nx - t->points[2 * i], ny - t->points[2 * i + 1]);
			for (int d = 0; d < 2; d++)
				out[d] += u * t->coef[i * 2 + d];
		}
		double p[3] = { 1, nx, ny };
		for (size_t k = 0; k < 3; k++)
			for (int d = 0; d < 2; d++)
				out[d] += p[k] * t->coef[(t->n + k) * 2 + d];
	}
	*lon = out[0];
	*lat = out[1];
}

void maps_transform_release(struct maps_transform *t)
{
	free(t->coef);
	free(t->points);
	memset(t, 0, sizeof *t);
}
