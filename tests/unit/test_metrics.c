/*
 * test_metrics.c: the Prometheus exposition (every line parsed strictly, histograms cumulative
 * with _count equal to +Inf, values after known observations), the /metrics allow-list rule,
 * and which Image API requests count as tiles.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/metrics.h"
#include "http/ops.h"
#include "image/info.h"
#include "image/request.h"
#include "unit.h"

#define MAX_SAMPLES 2048
#define MAX_TYPES 128

struct sample {
	char name[96];
	char labels[160]; /* as written between the braces, "" without */
	double value;
};

struct exposition {
	struct sample samples[MAX_SAMPLES];
	int nsamples;
	char types[MAX_TYPES][96];
	char kinds[MAX_TYPES][16];
	int ntypes;
	int bad_lines;
};

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

/* `a="x",b="y"`: names valid, values quoted without escapes (ours never need any). */
static bool valid_labels(const char *s)
{
	while (*s) {
		const char *eq = strchr(s, '=');
		if (!eq || !valid_name(s, (size_t)(eq - s)) || eq[1] != '"')
			return false;
		const char *close = strchr(eq + 2, '"');
		if (!close || memchr(eq + 2, '\\', (size_t)(close - eq - 2)))
			return false;
		s = close + 1;
		if (*s == ',')
			s++;
		else if (*s)
			return false;
	}
	return true;
}

/* The family a sample belongs to: its name, or without _bucket/_sum/_count for histograms. */
static const char *family_kind(const struct exposition *e, const char *name)
{
	for (int i = 0; i < e->ntypes; i++) {
		size_t n = strlen(e->types[i]);
		if (strncmp(name, e->types[i], n) != 0)
			continue;
		if (!name[n])
			return e->kinds[i];
		if (strcmp(e->kinds[i], "histogram") == 0 &&
		    (!strcmp(name + n, "_bucket") || !strcmp(name + n, "_sum") ||
		     !strcmp(name + n, "_count")))
			return e->kinds[i];
	}
	return NULL;
}

static void parse_line(struct exposition *e, char *line, const char **help_for)
{
	char name[96], kind[16];
	if (strncmp(line, "# HELP ", 7) == 0) {
		char *sp = strchr(line + 7, ' ');
		if (!sp || !valid_name(line + 7, (size_t)(sp - line - 7)) || !sp[1])
			e->bad_lines++;
		else
			*help_for = "seen";
		return;
	}
	if (sscanf(line, "# TYPE %95s %15s", name, kind) == 2) {
		bool known = !strcmp(kind, "counter") || !strcmp(kind, "gauge") ||
			     !strcmp(kind, "histogram");
		if (!known || !*help_for || e->ntypes == MAX_TYPES || family_kind(e, name))
			e->bad_lines++; /* unknown type, no HELP before it, or declared twice */
		else {
			snprintf(e->types[e->ntypes], sizeof e->types[0], "%s", name);
			snprintf(e->kinds[e->ntypes++], sizeof e->kinds[0], "%s", kind);
		}
		*help_for = NULL;
		return;
	}
	struct sample *s = &e->samples[e->nsamples];
	size_t n = strcspn(line, "{ ");
	char *rest = line + n, *end;
	if (n >= sizeof s->name || !valid_name(line, n) || e->nsamples == MAX_SAMPLES) {
		e->bad_lines++;
		return;
	}
	memcpy(s->name, line, n);
	s->name[n] = '\0';
	s->labels[0] = '\0';
	if (*rest == '{') {
		char *close = strchr(rest, '}');
		if (!close || (size_t)(close - rest - 1) >= sizeof s->labels) {
			e->bad_lines++;
			return;
		}
		memcpy(s->labels, rest + 1, (size_t)(close - rest - 1));
		s->labels[close - rest - 1] = '\0';
		rest = close + 1;
	}
	if (*rest != ' ' || !valid_labels(s->labels) || !family_kind(e, s->name)) {
		e->bad_lines++;
		return;
	}
	s->value = strtod(rest + 1, &end);
	if (end == rest + 1 || *end || isnan(s->value))
		e->bad_lines++;
	else
		e->nsamples++;
}

static void parse(struct exposition *e, char *text)
{
	const char *help_for = NULL;
	memset(e, 0, sizeof *e);
	CHECK(text[0] && text[strlen(text) - 1] == '\n', "the exposition ends with a newline");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		parse_line(e, line, &help_for);
}

static const struct sample *find(const struct exposition *e, const char *name,
				 const char *labels)
{
	for (int i = 0; i < e->nsamples; i++)
		if (!strcmp(e->samples[i].name, name) && !strcmp(e->samples[i].labels, labels))
			return &e->samples[i];
	return NULL;
}

static double value(const struct exposition *e, const char *name, const char *labels)
{
	const struct sample *s = find(e, name, labels);
	CHECK(s != NULL, "no sample %s{%s}", name, labels);
	return s ? s->value : -1;
}

/* Every histogram series: buckets in increasing le, cumulative, +Inf last and equal to _count. */
static void check_histograms(const struct exposition *e)
{
	for (int i = 0; i < e->nsamples; i++) {
		const struct sample *s = &e->samples[i];
		size_t n = strlen(s->name);
		if (n < 7 || strcmp(s->name + n - 6, "_count") != 0)
			continue;
		char base[96], bucket[110], prefix[180];
		snprintf(base, sizeof base, "%.*s", (int)(n - 6), s->name);
		snprintf(bucket, sizeof bucket, "%s_bucket", base);
		snprintf(prefix, sizeof prefix, "%s%sle=", s->labels, s->labels[0] ? "," : "");
		double last_le = -1, last_count = 0, inf = -1;
		int buckets = 0;
		for (int j = 0; j < e->nsamples; j++) {
			const struct sample *b = &e->samples[j];
			if (strcmp(b->name, bucket) || strncmp(b->labels, prefix, strlen(prefix)))
				continue;
			const char *le = b->labels + strlen(prefix) + 1;
			double bound = strncmp(le, "+Inf", 4) == 0 ? INFINITY : strtod(le, NULL);
			CHECK(bound > last_le, "%s{%s}: le not increasing", bucket, b->labels);
			CHECK(b->value >= last_count, "%s{%s}: not cumulative", bucket, b->labels);
			last_le = bound;
			last_count = b->value;
			if (isinf(bound))
				inf = b->value;
			buckets++;
		}
		CHECK(buckets > 1 && isinf(last_le), "%s{%s}: no +Inf bucket last", base, s->labels);
		CHECK(inf == s->value, "%s{%s}: _count %g != +Inf %g", base, s->labels, s->value, inf);
	}
}

static char *exposition_text(const char *statm)
{
	size_t len;
	char *text = metrics_exposition(statm, &len);
	CHECK(text && strlen(text) == len, "exposition made");
	return text;
}

static void test_format_and_values(void)
{
	static struct exposition e;
	for (int i = 0; i < 3; i++)
		metrics_request_done(METRICS_ROUTE_TILE, 200, 0.003);
	metrics_request_done(METRICS_ROUTE_TILE, 503, 20.0);
	metrics_request_done(METRICS_ROUTE_SEARCH, 1000, 0.0001); /* out of range: 599 */
	metrics_cache_hit(METRICS_CACHE_RENDER);
	metrics_cache_miss(METRICS_CACHE_RENDER);
	metrics_cache_miss(METRICS_CACHE_RENDER);
	metrics_cache_size(METRICS_CACHE_RENDER, 7, 12345);
	metrics_cache_size(METRICS_CACHE_SOURCE, 3, 999);
	metrics_admission_rejected(true, false);
	metrics_admission_running(false, 1, 1000);
	metrics_import_done(METRICS_IMPORT_OK, 42, 2.0);
	metrics_render_done(METRICS_RENDER_OK, 640 * 480, 256 * 256);
	char *text = exposition_text("/proc/self/statm");
	parse(&e, text);
	CHECK_INT(e.bad_lines, 0, "lines that do not parse");
	CHECK(e.nsamples > 100, "%d samples", e.nsamples);
	check_histograms(&e);
	CHECK_INT(value(&e, "iiifd_http_requests_total", "route=\"tile\",code=\"200\""), 3, "tile 200");
	CHECK_INT(value(&e, "iiifd_http_requests_total", "route=\"tile\",code=\"503\""), 1, "tile 503");
	CHECK_INT(value(&e, "iiifd_http_requests_total", "route=\"search\",code=\"599\""), 1, "599");
	CHECK(!find(&e, "iiifd_http_requests_total", "route=\"media\",code=\"200\""),
	      "counters never touched are left out");
	const char *h = "iiifd_http_request_duration_seconds_bucket";
	CHECK_INT(value(&e, h, "route=\"tile\",le=\"0.0025\""), 0, "below 3 ms");
	CHECK_INT(value(&e, h, "route=\"tile\",le=\"0.005\""), 3, "up to 5 ms");
	CHECK_INT(value(&e, h, "route=\"tile\",le=\"10\""), 3, "up to 10 s");
	CHECK_INT(value(&e, h, "route=\"tile\",le=\"30\""), 4, "up to 30 s");
	CHECK_INT(value(&e, h, "route=\"tile\",le=\"+Inf\""), 4, "all");
	CHECK(fabs(value(&e, "iiifd_http_request_duration_seconds_sum", "route=\"tile\"") - 20.009) <
		      1e-6,
	      "sum of the tile latencies");
	CHECK_INT(value(&e, "iiifd_http_request_duration_seconds_count", "route=\"web\""), 0,
		  "every route has a histogram");
	CHECK_INT(value(&e, "iiifd_cache_hits_total", "cache=\"render\""), 1, "hits");
	CHECK_INT(value(&e, "iiifd_cache_misses_total", "cache=\"render\""), 2, "misses");
	CHECK_INT(value(&e, "iiifd_cache_bytes", "cache=\"render\""), 12345, "render bytes");
	CHECK_INT(value(&e, "iiifd_cache_entries", "cache=\"source\""), 3, "source entries");
	CHECK(!find(&e, "iiifd_cache_bytes", "cache=\"source\""), "source cache counts no bytes");
	CHECK_INT(value(&e, "iiifd_admission_rejected_total", "class=\"large\",reason=\"busy\""), 1,
		  "busy");
	CHECK_INT(value(&e, "iiifd_admission_running", "class=\"small\""), 1, "running");
	CHECK_INT(value(&e, "iiifd_admission_memory_bytes", ""), 1000, "admitted bytes");
	CHECK_INT(value(&e, "iiifd_annotation_import_records_total", ""), 42, "records");
	CHECK_INT(value(&e, "iiifd_annotation_import_duration_seconds_bucket", "le=\"5\""), 1,
		  "import of 2 s");
	CHECK_INT(value(&e, "iiifd_annotation_import_duration_seconds_bucket", "le=\"1\""), 0,
		  "import of 2 s");
	CHECK_INT(value(&e, "iiifd_image_decoded_pixels_total", ""), 640 * 480, "decoded");
	CHECK(value(&e, "process_resident_memory_bytes", "") > 1e6, "RSS of this process");
	CHECK(value(&e, "process_start_time_seconds", "") > 1.5e9, "start time");
	CHECK_INT(value(&e, "iiifd_build_info", "version=\"" "0.1.0" "\""), 1, "build info");
	free(text);
	metrics_admission_running(false, -1, 1000);
}

static void test_rss_source(void)
{
	static struct exposition e;
	char path[] = "/tmp/test_metrics_statm_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "temp file");
	CHECK(write(fd, "5000 25 10 1 0 300 0\n", 21) == 21, "written");
	close(fd);
	char *text = exposition_text(path);
	parse(&e, text);
	CHECK_INT(value(&e, "process_resident_memory_bytes", ""), 25 * sysconf(_SC_PAGESIZE),
		  "resident pages times the page size");
	free(text);
	unlink(path);
	text = exposition_text(path); /* unreadable: the metric is left out, the rest stays */
	parse(&e, text);
	CHECK_INT(e.bad_lines, 0, "parses without RSS");
	CHECK(!find(&e, "process_resident_memory_bytes", ""), "no RSS without statm");
	free(text);
}

static void test_allow_list(void)
{
	static const struct {
		const char *allow, *client;
		bool forwarded, want;
	} cases[] = {
		{ "127.0.0.0/8, ::1", "127.0.0.1", false, true },
		{ "127.0.0.0/8, ::1", "127.3.4.5", false, true },
		{ "127.0.0.0/8, ::1", "::1", false, true },
		{ "127.0.0.0/8, ::1", "127.0.0.1", true, false }, /* an untrusted local proxy */
		{ "127.0.0.0/8, ::1", "203.0.113.5", true, false }, /* forwarded by a trusted one */
		{ "127.0.0.0/8, ::1", "192.168.1.2", false, false },
		{ "10.0.0.0/8", "10.1.2.3", true, true },
		{ "10.0.0.0/8", "127.0.0.1", false, false },
		{ "10.0.0.0/8 2001:db8::/32", "2001:db8::7", false, true },
		{ "", "127.0.0.1", false, false },
		{ "192.0.2.1", "-", false, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct iiifd_error err = { 0 };
		bool allowed = !cases[i].want;
		int rc = ops_metrics_allowed(cases[i].allow, cases[i].client, cases[i].forwarded,
					     &allowed, &err);
		CHECK(rc == 0 && allowed == cases[i].want, "'%s' for %s%s: rc %d allowed %d",
		      cases[i].allow, cases[i].client, cases[i].forwarded ? " (forwarded)" : "", rc,
		      allowed);
	}
	struct iiifd_error err = { 0 };
	bool allowed = true;
	CHECK(ops_metrics_allowed("10.0.0.0/99", "10.0.0.1", false, &allowed, &err) < 0 &&
		      err.http_status == 500 && !allowed && strstr(err.msg, "metrics-allow"),
	      "a bad list refuses everyone and says why: %s", err.msg);
}

static struct image_source source(int64_t w, int64_t h, int tile)
{
	struct image_source s = { 0 };
	s.kind = tile ? IMAGE_SOURCE_TIFF : IMAGE_SOURCE_OTHER;
	s.width = w;
	s.height = h;
	s.tile_width = s.tile_height = tile;
	s.nlevels = 1;
	s.levels[0].width = w;
	s.levels[0].height = h;
	return s;
}

static void test_tile_classification(void)
{
	struct image_info_options opt = { 0 };
	opt.default_tile_size = 512;
	opt.limits.max_area = 100000000;
	struct image_source flat = source(1200, 900, 0), tiled = source(1000, 700, 256);
	static const struct {
		int which; /* 0: flat 1200x900, 512 tiles; 1: tiled 1000x700, 256 tiles */
		const char *region, *size;
		double rotation;
		bool want;
	} cases[] = {
		{ 0, "0,0,512,512", "512,", 0, true },
		{ 0, "512,0,512,512", "512,512", 0, true },
		{ 0, "1024,512,176,388", "176,", 0, true },   /* edge tile */
		{ 0, "1024,512,176,388", "176,388", 0, true },
		{ 0, "0,0,1024,1024", "512,", 0, true },      /* clipped to 1024x900: the same tile */
		{ 0, "0,0,1024,800", "512,", 0, false },      /* not the whole tile */
		{ 0, "0,0,1024,900", "512,", 0, true },       /* scale factor 2, clipped */
		{ 0, "full", "300,", 0, true },               /* the single tile of factor 4 */
		{ 0, "full", "max", 0, false },
		{ 0, "0,0,512,512", "512,", 90, false },
		{ 0, "0,0,512,512", "256,", 0, false },
		{ 0, "1,0,512,512", "512,", 0, false },
		{ 0, "0,0,512,512", "^513,", 0, true },        /* a viewer rounding up */
		{ 1, "256,256,256,256", "256,", 0, true },
		{ 1, "768,512,232,188", "232,188", 0, true },
		{ 1, "0,0,512,512", "256,", 0, true },
		{ 1, "0,0,512,512", "512,", 0, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct image_request ir;
		struct image_geometry g;
		struct iiifd_error err = { 0 };
		const struct image_source *src = cases[i].which ? &tiled : &flat;
		char rotation[16];
		snprintf(rotation, sizeof rotation, "%g", cases[i].rotation);
		int rc = image_request_parse(IMAGE_API_V3, cases[i].region, cases[i].size, rotation,
					     "default.jpg", &ir, &err);
		if (rc == 0)
			rc = image_request_resolve(&ir, src->width, src->height, &opt.limits, &g, &err);
		CHECK(rc == 0, "%s/%s: %s", cases[i].region, cases[i].size, err.msg);
		if (rc == 0)
			CHECK(image_info_is_tile(src, &opt, &ir, &g) == cases[i].want, "%s/%s/%g",
			      cases[i].region, cases[i].size, cases[i].rotation);
	}
}

int main(void)
{
	UNIT_RUN(test_format_and_values);
	UNIT_RUN(test_rss_source);
	UNIT_RUN(test_allow_list);
	UNIT_RUN(test_tile_classification);
	return unit_report("metrics");
}
