/*
 * test_content_state.c: IIIF Content State 1.0 (src/contentstate): the spec's encoded examples
 * decoded and re-encoded byte for byte, every form of §2.2 and §5 read into views, what is
 * refused (other servers, bad encodings, too much), and the content states iiifd writes read back.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "contentstate/content_state.h"
#include "unit.h"

/* The encoded examples of the spec, as printed there (§3.1 twice, §5.4, §6.3.2). */
static const char spec_3_1_full[] =
	"aHR0cHMlM0ElMkYlMkZleGFtcGxlLm9yZyUyRnZpZXdlciUzRmlpaWYtY29udGVudCUzRCU3QiUyMiU0MGNvbnRl"
	"eHQlMjIlM0ElMjJodHRwJTNBJTJGJTJGaWlpZi5pbyUyRmFwaSUyRnByZXNlbnRhdGlvbiUyRjMlMkZjb250ZXh0"
	"Lmpzb24lMjIlMkMlMjJpZCUyMiUzQSUyMCUyMmh0dHBzJTNBJTJGJTJGZXhhbXBsZS5vcmclMkZjb250ZW50LXN0"
	"YXRlcyUyRjElMjIlMkMlMjJ0eXBlJTIyJTNBJTIyQW5ub3RhdGlvbiUyMiUyQyUyMm1vdGl2YXRpb24lMjIlM0El"
	"MjJjb250ZW50U3RhdGUlMjIlMkMlMjJ0YXJnZXQlMjIlM0ElN0IlMjJpZCUyMiUzQSUyMmh0dHBzJTNBJTJGJTJG"
	"ZGFtc3NzbC5sbGdjLm9yZy51ayUyRmlpaWYlMkYyLjAlMkY0Mzg5NzY3JTJGY2FudmFzJTJGNDM4OTc3Mi5qc29u"
	"JTIyJTJDJTIydHlwZSUyMiUzQSUyMkNhbnZhcyUyMiUyQyUyMnBhcnRPZiUyMiUzQSU1QiU3QiUyMmlkJTIyJTNB"
	"JTIyaHR0cHMlM0ElMkYlMkZkYW1zc3NsLmxsZ2Mub3JnLnVrJTJGaWlpZiUyRjIuMCUyRjQzODk3NjclMkZtYW5p"
	"ZmVzdC5qc29uJTIyJTJDJTIydHlwZSUyMiUzQSUyMk1hbmlmZXN0JTIyJTdEJTVEJTdEJTdE";
static const char spec_3_1_target[] =
	"aHR0cHMlM0ElMkYlMkZleGFtcGxlLm9yZyUyRnZpZXdlciUzRmlpaWYtY29udGVudCUzRCU3QiUyMmlkJTIyJTNB"
	"JTIyaHR0cHMlM0ElMkYlMkZkYW1zc3NsLmxsZ2Mub3JnLnVrJTJGaWlpZiUyRjIuMCUyRjQzODk3NjclMkZjYW52"
	"YXMlMkY0Mzg5NzcyLmpzb24lMjIlMkMlMjJ0eXBlJTIyJTNBJTIyQ2FudmFzJTIyJTJDJTIycGFydE9mJTIyJTNB"
	"JTVCJTdCJTIyaWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRmRhbXNzc2wubGxnYy5vcmcudWslMkZpaWlmJTJGMi4w"
	"JTJGNDM4OTc2NyUyRm1hbmlmZXN0Lmpzb24lMjIlMkMlMjJ0eXBlJTIyJTNBJTIyTWFuaWZlc3QlMjIlN0QlNUQl"
	"N0Q";
static const char spec_5_4_alice[] =
	"JTdCJTIyaWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRmV4YW1wbGUub3JnJTJGYWxpY2UlMkZjYW52YXM3NyUyM3h5"
	"d2glM0QxMDAwJTJDMjAwMCUyQzEwMDAlMkMyMDAwJTIyJTJDJTIydHlwZSUyMiUzQSUyMkNhbnZhcyUyMiUyQyUy"
	"MnBhcnRPZiUyMiUzQSU1QiU3QiUyMmlkJTIyJTNBJTIyaHR0cHMlM0ElMkYlMkZleGFtcGxlLm9yZyUyRmFsaWNl"
	"JTJGbWFuaWZlc3QlMjIlMkMlMjJ0eXBlJTIyJTNBJTIyTWFuaWZlc3QlMjIlN0QlNUQlN0Q";
static const char spec_6_3_encoded[] =
	"JTdCJTIyaWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRmV4YW1wbGUub3JnJTJGb2JqZWN0MSUyRmNhbnZhczclMjN4"
	"eXdoJTNEMTAwMCUyQzIwMDAlMkMxMDAwJTJDMjAwMCUyMiUyQyUyMnR5cGUlMjIlM0ElMjJDYW52YXMlMjIlMkMl"
	"MjJwYXJ0T2YlMjIlM0ElNUIlN0IlMjJpZCUyMiUzQSUyMmh0dHBzJTNBJTJGJTJGZXhhbXBsZS5vcmclMkZvYmpl"
	"Y3QxJTJGbWFuaWZlc3QlMjIlMkMlMjJ0eXBlJTIyJTNBJTIyTWFuaWZlc3QlMjIlN0QlNUQlN0Q";

/* §6.3.2: the condensed JSON the encoded example is made from */
static const char spec_6_3_plain[] =
	"{\"id\":\"https://example.org/object1/canvas7#xywh=1000,2000,1000,2000\",\"type\":\"Canvas\","
	"\"partOf\":[{\"id\":\"https://example.org/object1/manifest\",\"type\":\"Manifest\"}]}";

static const struct content_state_scope example_org = { .base = "https://example.org" };

static void test_spec_encoding(void)
{
	char *enc = content_state_encode(spec_6_3_plain, strlen(spec_6_3_plain));
	CHECK_STR(enc, spec_6_3_encoded, "§6.3.2 encode");
	free(enc);
	struct iiifd_error err = { 0 };
	char *dec = content_state_decode(spec_6_3_encoded, strlen(spec_6_3_encoded), &err);
	CHECK(dec && strcmp(dec, spec_6_3_plain) == 0, "§6.3.2 decode: %s", dec ? dec : err.msg);
	free(dec);
	/* §5.4 and §3.1: decoded and encoded again gives the same string */
	const char *examples[] = { spec_5_4_alice, spec_3_1_full, spec_3_1_target };
	for (size_t i = 0; i < 3; i++) {
		dec = content_state_decode(examples[i], strlen(examples[i]), &err);
		CHECK(dec != NULL, "example %zu: %s", i, err.msg);
		if (!dec)
			continue;
		enc = content_state_encode(dec, strlen(dec));
		CHECK_STR(enc, examples[i], "re-encoded");
		free(enc);
		if (i == 0)
			CHECK(strstr(dec, "\"id\":\"https://example.org/alice/canvas77#xywh=1000,2000,"
					  "1000,2000\"") != NULL, "§5.4: %s", dec);
		else /* the spec's §3.1 strings encode the whole link, JSON inside (an erratum) */
			CHECK(strncmp(dec, "https://example.org/viewer?iiif-content={", 41) == 0,
			      "§3.1: %s", dec);
		free(dec);
	}
}

static void test_encoding_round_trip(void)
{
	/* every byte class: unreserved, reserved, %, UTF-8 of 2, 3 and 4 bytes, all lengths % 3 */
	const char *texts[] = { "a", "ab", "abc", "-_.!~*'()", "{\"a\":\"b c/d?e=f&g#h%\"}",
				"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "+ stays +", "\t\n" };
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char *enc = content_state_encode(texts[i], strlen(texts[i]));
		CHECK(enc && strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789-_") == strlen(enc), "alphabet: %s", enc);
		struct iiifd_error err = { 0 };
		char *dec = enc ? content_state_decode(enc, strlen(enc), &err) : NULL;
		CHECK(dec && strcmp(dec, texts[i]) == 0, "round trip %zu: %s", i, err.msg);
		free(enc);
		free(dec);
	}
	CHECK(content_state_encode("\xff", 1) == NULL, "not UTF-8 is not encoded");
	/* "a" is YQ; padding given anyway is accepted */
	struct iiifd_error err = { 0 };
	char *dec = content_state_decode("YQ==", 4, &err);
	CHECK(dec && strcmp(dec, "a") == 0, "padded: %s", err.msg);
	free(dec);
}

static void test_decode_refuses(void)
{
	static const char *bad[] = {
		"Y",          /* length % 4 == 1: no padding can fix it */
		"YQ+/",       /* base64, not base64url */
		"Y Q",        /* space */
		"YR",         /* non-zero leftover bits */
		"JTI",        /* "%2": a cut %-escape */
		"JUZG",       /* "%FF": not UTF-8 once decoded */
		"JTAw",       /* "%00" */
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct iiifd_error err = { 0 };
		char *dec = content_state_decode(bad[i], strlen(bad[i]), &err);
		CHECK(dec == NULL && err.http_status == 400, "'%s' was accepted", bad[i]);
		free(dec);
	}
	/* too long */
	size_t n = CONTENT_STATE_MAX * 2;
	char *big = malloc(n + 1);
	memset(big, 'A', n);
	big[n] = '\0';
	struct iiifd_error err = { 0 };
	CHECK(content_state_decode(big, n, &err) == NULL && strstr(err.msg, "long"), "huge: %s",
	      err.msg);
	free(big);
}

static int parse(const char *text, const struct content_state_scope *scope,
		 struct content_state *st, struct iiifd_error *err)
{
	memset(err, 0, sizeof *err);
	return content_state_parse(text, strlen(text), scope, st, err);
}

static void test_forms(void)
{
	struct content_state st;
	struct iiifd_error err;
	/* §2.2.1 full Annotation, §2.2.3 its target, §2.2.4 the target URI */
	const char *manifest_forms[] = {
		"{\"@context\":\"http://iiif.io/api/presentation/3/context.json\","
		"\"id\":\"https://example.org/Annotation-server/bookmarks/b1\",\"type\":\"Annotation\","
		"\"motivation\":[\"contentState\"],\"target\":{\"id\":"
		"\"https://example.org/iiif/item1/manifest\",\"type\":\"Manifest\"}}",
		"{\"id\":\"https://example.org/iiif/item1/manifest\",\"type\":\"Manifest\"}",
		"https://example.org/iiif/item1/manifest",
		"  https://example.org/iiif/item1/manifest\n",
	};
	for (size_t i = 0; i < 4; i++) {
		CHECK_INT(parse(manifest_forms[i], &example_org, &st, &err), 0, err.msg);
		CHECK(st.n == 1 && strcmp(st.views[0].manifest,
					  "https://example.org/iiif/item1/manifest") == 0 &&
		      !st.views[0].canvas[0] && !st.views[0].has_xywh, "form %zu", i);
	}
	/* §2.2.2: an Annotation URI is fetched by the client */
	CHECK_INT(parse("https://example.org/Annotation-server/bookmarks/b1", &example_org, &st,
			&err), 0, err.msg);
	CHECK(st.n == 0 && strcmp(st.resolve, "https://example.org/Annotation-server/bookmarks/b1")
			== 0, "resolve: '%s'", st.resolve);
	/* §2.2.5 / §5.1 region of a Canvas, as an Annotation and as its target */
	CHECK_INT(parse(spec_6_3_plain, &example_org, &st, &err), 0, err.msg);
	const struct content_state_view *v = &st.views[0];
	CHECK(st.n == 1 && strcmp(v->canvas, "https://example.org/object1/canvas7") == 0 &&
	      strcmp(v->manifest, "https://example.org/object1/manifest") == 0 && v->has_xywh &&
	      v->xywh[0] == 1000 && v->xywh[1] == 2000 && v->xywh[2] == 1000 &&
	      v->xywh[3] == 2000 && !v->has_t, "§2.2.5: %s", v->canvas);
	/* §5.2 a point in time through a SpecificResource with a PointSelector */
	CHECK_INT(parse("{\"@context\":\"http://iiif.io/api/presentation/3/context.json\","
			"\"id\":\"https://example.org/import/2\",\"type\":\"Annotation\","
			"\"motivation\":[\"contentState\"],\"target\":{\"type\":\"SpecificResource\","
			"\"source\":{\"id\":\"https://example.org/iiif/id1/canvas1\",\"type\":"
			"\"Canvas\",\"partOf\":[{\"id\":\"https://example.org/iiif/id1/manifest\","
			"\"type\":\"Manifest\"}]},\"selector\":{\"type\":\"PointSelector\",\"t\":14.5}}}",
			&example_org, &st, &err), 0, err.msg);
	CHECK(st.n == 1 && v->has_t && v->t[0] == 14.5 && v->t[1] < 0 &&
	      strcmp(v->canvas, "https://example.org/iiif/id1/canvas1") == 0 &&
	      strcmp(v->manifest, "https://example.org/iiif/id1/manifest") == 0, "§5.2");
	/* §5.3 two targets, motivation a string */
	CHECK_INT(parse("{\"type\":\"Annotation\",\"motivation\":\"contentState\",\"target\":["
			"{\"id\":\"https://example.org/iiif/item1/canvas37\",\"type\":\"Canvas\","
			"\"partOf\":[{\"id\":\"https://example.org/iiif/item1/manifest\",\"type\":"
			"\"Manifest\"}]},{\"id\":\"https://example.org/iiif/item2/canvas99\",\"type\":"
			"\"Canvas\",\"partOf\":[{\"id\":\"https://example.org/iiif/item2/manifest\","
			"\"type\":\"Manifest\"}]}]}", &example_org, &st, &err), 0, err.msg);
	CHECK(st.n == 2 && strcmp(st.views[1].canvas, "https://example.org/iiif/item2/canvas99") ==
			0 && strcmp(st.views[1].manifest, "https://example.org/iiif/item2/manifest") == 0,
	      "§5.3: %zu", st.n);
	/* a Range, a Collection, #t= as a range with npt and clock times, a FragmentSelector */
	CHECK_INT(parse("{\"id\":\"https://example.org/m/range/2\",\"type\":\"Range\",\"partOf\":"
			"[{\"id\":\"https://example.org/m/manifest\",\"type\":\"Manifest\"}]}",
			&example_org, &st, &err), 0, err.msg);
	CHECK(strcmp(v->range, "https://example.org/m/range/2") == 0 && !v->canvas[0], "range");
	CHECK_INT(parse("{\"id\":\"https://example.org/c/collection\",\"type\":\"Collection\"}",
			&example_org, &st, &err), 0, err.msg);
	CHECK(v->collection && strcmp(v->manifest, "https://example.org/c/collection") == 0, "coll");
	CHECK_INT(parse("{\"id\":\"https://example.org/av/manifest/canvas/1#t=npt:1:02.5,70\","
			"\"type\":\"Canvas\"}", &example_org, &st, &err), 0, err.msg);
	CHECK(v->has_t && v->t[0] == 62.5 && v->t[1] == 70 &&
	      strcmp(v->manifest, "https://example.org/av/manifest") == 0, "t= and no partOf");
	CHECK_INT(parse("{\"type\":\"SpecificResource\",\"source\":"
			"\"https://example.org/b/manifest/canvas/3\",\"selector\":[{\"type\":"
			"\"FragmentSelector\",\"value\":\"xywh=pixel:1,2,3,4\"}]}", &example_org, &st,
			&err), 0, err.msg);
	CHECK(v->has_xywh && v->xywh[3] == 4 && strcmp(v->canvas,
						     "https://example.org/b/manifest/canvas/3") == 0,
	      "FragmentSelector");
	/* an Annotation that is not a content state is the content itself: where it points */
	CHECK_INT(parse("{\"type\":\"Annotation\",\"motivation\":\"commenting\",\"target\":"
			"\"https://example.org/b/manifest/canvas/2#xywh=5,6,7,8\"}", &example_org, &st,
			&err), 0, err.msg);
	CHECK(v->has_xywh && v->xywh[0] == 5 && strcmp(v->manifest, "https://example.org/b/manifest")
			== 0, "commenting annotation");
	/* path-absolute URLs are this server's */
	CHECK_INT(parse("/iiif/presentation/b/manifest", &example_org, &st, &err), 0, err.msg);
	CHECK_STR(v->manifest, "https://example.org/iiif/presentation/b/manifest", "path");
}

static void test_scope(void)
{
	struct content_state st;
	struct iiifd_error err;
	const char *llgc = "{\"id\":\"https://damsssl.llgc.org.uk/iiif/2.0/4389767/canvas/4389772."
			   "json\",\"type\":\"Canvas\",\"partOf\":[{\"id\":\"https://damsssl.llgc."
			   "org.uk/iiif/2.0/4389767/manifest.json\",\"type\":\"Manifest\"}]}";
	CHECK_INT(parse(llgc, &example_org, &st, &err), -1, "another server by default");
	CHECK(strstr(err.msg, "content-state-origins") != NULL, "the message names the setting: %s",
	      err.msg);
	struct content_state_scope listed = { .base = "https://example.org",
					      .origins = "https://a.test, https://damsssl.llgc.org.uk/" };
	CHECK_INT(parse(llgc, &listed, &st, &err), 0, err.msg);
	CHECK_STR(st.views[0].manifest, "https://damsssl.llgc.org.uk/iiif/2.0/4389767/manifest.json",
		  "listed origin");
	/* a listed origin's plain URI is fetched to learn what it is */
	CHECK_INT(parse("https://damsssl.llgc.org.uk/iiif/2.0/4389767/manifest.json", &listed, &st,
			&err), 0, err.msg);
	CHECK(st.n == 0 && st.resolve[0], "resolve another origin's URI");
	/* a prefix under a path: only below it */
	struct content_state_scope prefixed = { .base = "https://example.org/iiifd" };
	const char *refused[] = {
		"https://example.org/other/manifest", "https://example.org.evil.test/iiifd/manifest",
		"https://example.org/iiifdx/manifest", "/other/manifest", "//evil.test/manifest",
		"javascript:alert(1)", "data:text/html,<script>x</script>",
		"https://example.org/iiifd/a\"><script>/manifest", "https://example.org@evil.test/m",
		"{\"id\":\"https://example.org/iiifd/m</script>/manifest\",\"type\":\"Manifest\"}",
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		CHECK(parse(refused[i], &prefixed, &st, &err) == -1 && err.http_status == 400,
		      "accepted %s", refused[i]);
	CHECK_INT(parse("https://EXAMPLE.org/iiifd/b/manifest", &prefixed, &st, &err), 0, err.msg);
	CHECK_INT(parse("/iiifd/b/manifest", &prefixed, &st, &err), 0, err.msg);
	CHECK_STR(st.views[0].manifest, "https://example.org/iiifd/b/manifest", "prefixed path");
}

static void test_parse_refuses(void)
{
	struct content_state st;
	struct iiifd_error err;
	const char *bad[] = {
		"", "{", "[]", "{}", "{\"type\":\"Manifest\"}", "{\"id\":\"https://example.org/m\"}",
		"{\"id\":\"https://example.org/x/canvas7\",\"type\":\"Canvas\"}", /* no partOf */
		"{\"id\":\"https://example.org/m/manifest\",\"type\":\"Image\"}",
		"{\"type\":\"Annotation\",\"target\":{\"type\":\"Annotation\",\"target\":{\"type\":"
		"\"Annotation\",\"target\":\"https://example.org/m/manifest\"}}}",
		"https://example.org/m/manifest/canvas/1#xywh=1,2,0,4",
		"https://example.org/m/manifest/canvas/1#xywh=percent:1,2,3,4",
		"https://example.org/m/manifest/canvas/1#t=5,2",
		"https://example.org/m/manifest/canvas/1#xywh=1,2,3,nan",
		"{\"id\":\"https://example.org/m/manifest\",\"id\":\"https://example.org/n/manifest\","
		"\"type\":\"Manifest\"}",
		"[[\"https://example.org/m/manifest\"]]",
		"{\"type\":\"SpecificResource\",\"source\":{\"id\":\"https://example.org/m/manifest/"
		"canvas/1\",\"type\":\"Canvas\"},\"selector\":{\"type\":\"PointSelector\",\"t\":-1}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(parse(bad[i], &example_org, &st, &err) == -1 && err.http_status == 400 &&
			      strncmp(err.msg, "iiif-content: ", 14) == 0,
		      "accepted %s", bad[i]);
	/* nine targets */
	GString *many = g_string_new("[");
	for (int i = 0; i < CONTENT_STATE_VIEWS_MAX + 1; i++)
		g_string_append_printf(many, "%s\"https://example.org/m%d/manifest\"", i ? "," : "", i);
	g_string_append(many, "]");
	CHECK_INT(parse(many->str, &example_org, &st, &err), -1, "too many targets");
	g_string_free(many, TRUE);
	/* GET: JSON must be encoded; an encoded plain URI is still read */
	CHECK_INT(content_state_read_param("{\"id\":\"https://example.org/m/manifest\"}",
					   &example_org, &st, &err), -1, "unencoded JSON in GET");
	char *enc = content_state_encode("https://example.org/m/manifest", 30);
	CHECK_INT(content_state_read_param(enc, &example_org, &st, &err), 0, err.msg);
	free(enc);
	CHECK_INT(content_state_read_param("not base64!", &example_org, &st, &err), -1, "garbage");
}

static void test_parse_t_xywh(void)
{
	double t[2], r[4];
	CHECK(content_state_parse_t("10", t) == 0 && t[0] == 10 && t[1] < 0, "10");
	CHECK(content_state_parse_t(",20", t) == 0 && t[0] == 0 && t[1] == 20, ",20");
	CHECK(content_state_parse_t("npt:0:01:30.5,2:00", t) == 0 && t[0] == 90.5 && t[1] == 120,
	      "clock");
	CHECK(content_state_parse_t("1:2:3:4", t) == -1, "four parts");
	CHECK(content_state_parse_t("a", t) == -1 && content_state_parse_t("", t) == -1, "bad t");
	CHECK(content_state_parse_xywh("pixel:0,0,1,1", r) == 0 && r[2] == 1, "pixel:");
	CHECK(content_state_parse_xywh("1e3,0,1,1", r) == -1, "exponent");
}

/* What iiifd writes reads back as the same view. */
static void test_written_reads_back(void)
{
	struct content_state_view v = { .has_xywh = true, .xywh = { 150, 180, 700, 120.5 } };
	snprintf(v.manifest, sizeof v.manifest, "https://example.org/b/manifest");
	snprintf(v.canvas, sizeof v.canvas, "https://example.org/b/manifest/canvas/3");
	for (int form = 0; form < 3; form++) {
		if (form == 2) {
			v.has_xywh = false;
			v.has_t = true;
			v.t[0] = 1.5;
			v.t[1] = 4;
		}
		json_t *target = content_state_target(&v);
		json_t *doc = form == 1 ? content_state_annotation(target, NULL) : target;
		char *enc = content_state_encode_json(doc);
		struct content_state st;
		struct iiifd_error err = { 0 };
		CHECK_INT(content_state_read_param(enc, &example_org, &st, &err), 0, err.msg);
		const struct content_state_view *got = &st.views[0];
		CHECK(st.n == 1 && strcmp(got->canvas, v.canvas) == 0 &&
		      strcmp(got->manifest, v.manifest) == 0 && got->has_xywh == v.has_xywh &&
		      got->has_t == v.has_t && (!v.has_xywh || got->xywh[3] == 120.5) &&
		      (!v.has_t || (got->t[0] == 1.5 && got->t[1] == 4)), "form %d", form);
		free(enc);
		json_decref(doc);
	}
}

int main(void)
{
	UNIT_RUN(test_spec_encoding);
	UNIT_RUN(test_encoding_round_trip);
	UNIT_RUN(test_decode_refuses);
	UNIT_RUN(test_forms);
	UNIT_RUN(test_scope);
	UNIT_RUN(test_parse_refuses);
	UNIT_RUN(test_parse_t_xywh);
	UNIT_RUN(test_written_reads_back);
	return unit_report("content_state");
}
