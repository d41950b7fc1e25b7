/*
 * natsort.c: compares digit runs by length after stripping leading zeros, then digit by digit,
 * so numbers of any length compare correctly without overflow.
 */
#include "presentation/natsort.h"

#include <ctype.h>
#include <string.h>

/* Compares the digit runs starting at *a and *b and advances both past them. */
static int natsort_numbers(const char **a, const char **b, int *zeros)
{
	const char *x = *a, *y = *b;
	const char *xs, *ys;
	int zx = 0, zy = 0;
	while (*x == '0' && isdigit((unsigned char)x[1]))
		x++, zx++;
	while (*y == '0' && isdigit((unsigned char)y[1]))
		y++, zy++;
	for (xs = x; isdigit((unsigned char)*x); x++)
		;
	for (ys = y; isdigit((unsigned char)*y); y++)
		;
	*a = x;
	*b = y;
	if (!*zeros)
		*zeros = zx - zy;
	if (x - xs != y - ys)
		return x - xs < y - ys ? -1 : 1;
	int c = strncmp(xs, ys, (size_t)(x - xs));
	return c < 0 ? -1 : c > 0;
}

int natsort_compare(const char *a, const char *b)
{
	const char *x = a, *y = b;
	int zeros = 0;
	while (*x && *y) {
		if (isdigit((unsigned char)*x) && isdigit((unsigned char)*y)) {
			int c = natsort_numbers(&x, &y, &zeros);
			if (c)
				return c;
			continue;
		}
		int cx = tolower((unsigned char)*x), cy = tolower((unsigned char)*y);
		if (cx != cy)
			return cx < cy ? -1 : 1;
		x++, y++;
	}
	if (*x || *y)
		return *x ? 1 : -1;
	if (zeros)
		return zeros < 0 ? -1 : 1;
	int c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}
