/*
 * vtt.c: WebVTT subtitles and transcripts to timed records, one per cue, read line by line;
 * NOTE, STYLE and REGION blocks and cue settings are skipped, cue tags stripped.
 */
#include "annotation/importers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "annotation/import.h"

struct vtt {
	struct import_state *st;
	const struct anno_target *target;
	struct import_lines r;
	bool again; /* the current line starts the next block: read it again */
	char *language;
	struct import_buf text;
};

static int vtt_next(struct vtt *v)
{
	if (v->again) {
		v->again = false;
		return 1;
	}
	return import_lines_next(&v->r, v->st);
}

/* Whether s is keyword alone or followed by a space or tab. */
static bool vtt_keyword(const char *s, const char *keyword)
{
	size_t n = strlen(keyword);
	return strncmp(s, keyword, n) == 0 && (!s[n] || s[n] == ' ' || s[n] == '\t');
}

static int vtt_header(struct vtt *v)
{
	int rc = vtt_next(v);
	if (rc < 0)
		return -1;
	const char *s = rc ? v->r.buf.data : "";
	if (strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (!vtt_keyword(s, "WEBVTT"))
		return import_fail(v->st, 1, "the first line is not 'WEBVTT'");
	while ((rc = vtt_next(v)) == 1 && v->r.buf.len) {
		s = v->r.buf.data;
		if (strstr(s, "-->")) {
			v->again = true; /* a cue right after the header */
			return 0;
		}
		if (strncasecmp(s, "Language:", 9) == 0 && !v->language) {
			for (s += 9; *s == ' ' || *s == '\t'; s++)
				;
			if (*s && !(v->language = strdup(s)))
				return import_fail(v->st, v->r.line, "out of memory");
		}
	}
	return rc < 0 ? -1 : 0;
}

/* Reads (hh:)mm:ss.ttt at *p (hours of any length) into seconds; -1 when malformed. */
static int vtt_time(const char **p, double *t)
{
	const char *s = *p;
	long part[3];
	int n = 0, width[3];
	for (;;) {
		if (!isdigit((unsigned char)*s))
			return -1;
		part[n] = 0;
		for (width[n] = 0; isdigit((unsigned char)*s); s++, width[n]++)
			if (width[n] < 12)
				part[n] = part[n] * 10 + (*s - '0');
		if (++n == 3 || *s != ':')
			break;
		s++;
	}
	if (n < 2 || *s != '.' || !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
	    !isdigit((unsigned char)s[3]) || isdigit((unsigned char)s[4]))
		return -1;
	long ms = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	long h = n == 3 ? part[0] : 0, m = part[n - 2], sec = part[n - 1];
	if (width[n - 2] != 2 || width[n - 1] != 2 || m > 59 || sec > 59)
		return -1;
	*t = (double)h * 3600 + (double)m * 60 + (double)sec + (double)ms / 1000;
	*p = s + 4;
	return 0;
}

/* Parses "start --> end [settings]" from the current line. */
static int vtt_timing(struct vtt *v, double *start, double *end)
{
	const char *s = v->r.buf.data;
	while (*s == ' ' || *s == '\t')
		s++;
	const char *at = s;
	if (vtt_time(&s, start) < 0)
		goto bad;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "-->", 3) != 0)
		goto bad;
	for (s += 3; *s == ' ' || *s == '\t'; s++)
		;
	at = s;
	if (vtt_time(&s, end) < 0 || (*s && *s != ' ' && *s != '\t'))
		goto bad;
	if (*end < *start)
		return import_fail(v->st, v->r.line, "cue ends (%.3f s) before it starts (%.3f s)",
				   *end, *start);
	return 0;
bad:
	return import_fail(v->st, v->r.line, "bad cue timing at '%.30s' (want [hh:]mm:ss.ttt)", at);
}

/* Decodes the character reference at s ("&amp;"...) into out; returns its length, 0 if none. */
static size_t vtt_entity(const char *s, char out[8])
{
	static const struct {
		const char *name, *utf8;
	} names[] = {{"&amp;", "&"},  {"&lt;", "<"},  {"&gt;", ">"},
		     {"&quot;", "\""}, {"&apos;", "'"}, {"&nbsp;", "\xC2\xA0"},
		     {"&lrm;", "\xE2\x80\x8E"}, {"&rlm;", "\xE2\x80\x8F"}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i].name);
		if (strncmp(s, names[i].name, n) == 0) {
			strcpy(out, names[i].utf8);
			return n;
		}
	}
	if (s[1] != '#')
		return 0;
	int hex = s[2] == 'x' || s[2] == 'X';
	char *end;
	unsigned long c = strtoul(s + 2 + hex, &end, hex ? 16 : 10);
	if (*end != ';' || end == s + 2 + hex || !isxdigit((unsigned char)s[2 + hex]) || c == 0 ||
	    c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	if (c < 0x80) {
		out[0] = (char)c, out[1] = '\0';
	} else if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6), out[1] = (char)(0x80 | (c & 0x3F)), out[2] = '\0';
	} else if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12), out[1] = (char)(0x80 | (c >> 6 & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F)), out[3] = '\0';
	} else {
		out[0] = (char)(0xF0 | c >> 18), out[1] = (char)(0x80 | (c >> 12 & 0x3F));
		out[2] = (char)(0x80 | (c >> 6 & 0x3F)), out[3] = (char)(0x80 | (c & 0x3F));
		out[4] = '\0';
	}
	return (size_t)(end + 1 - s);
}

/* Appends one line of cue text without its tags, entities decoded, blanks collapsed. */
static int vtt_clean(struct import_buf *b, const char *s)
{
	if (import_buf_add_collapsed(b, " ", 1) < 0)
		return -1;
	while (*s) {
		size_t n = strcspn(s, "<&");
		if (import_buf_add_collapsed(b, s, n) < 0)
			return -1;
		s += n;
		if (*s == '<') {
			const char *close = strchr(s, '>');
			s = close ? close + 1 : s + strlen(s);
		} else if (*s == '&') {
			char utf8[8];
			size_t len = vtt_entity(s, utf8);
			if (import_buf_add(b, len ? utf8 : "&", len ? strlen(utf8) : 1) < 0)
				return -1;
			s += len ? len : 1;
		}
	}
	return 0;
}

static int vtt_cue(struct vtt *v)
{
	double start, end;
	int line = v->r.line, rc;
	if (vtt_timing(v, &start, &end) < 0)
		return -1;
	import_buf_reset(&v->text);
	while ((rc = vtt_next(v)) == 1 && v->r.buf.len) {
		if (strstr(v->r.buf.data, "-->")) {
			v->again = true; /* no blank line before the next cue */
			break;
		}
		if (vtt_clean(&v->text, v->r.buf.data) < 0)
			return import_fail(v->st, v->r.line, "cue text longer than %d bytes",
					   IMPORT_MAX_TEXT);
	}
	if (rc < 0)
		return -1;
	size_t len = v->text.len;
	while (len && v->text.data[len - 1] == ' ')
		len--;
	if (!len)
		return 0; /* nothing to search or show */
	struct anno_record *rec = import_add(v->st, line, v->target->file, v->target->page,
					     "supplementing", NULL);
	if (!rec)
		return -1;
	rec->has_time = true;
	rec->start = start;
	rec->end = end;
	rec->text = import_strndup(v->text.data, len);
	rec->language = anno_strdup(v->language);
	if (!rec->text || (v->language && !rec->language))
		return import_fail(v->st, line, "out of memory");
	return 0;
}

/* One block, its first line read: a comment, style or region block (skipped), or a cue. */
static int vtt_block(struct vtt *v)
{
	const char *s = v->r.buf.data;
	int rc;
	if (vtt_keyword(s, "NOTE") || vtt_keyword(s, "STYLE") || vtt_keyword(s, "REGION")) {
		while ((rc = vtt_next(v)) == 1 && v->r.buf.len)
			;
		return rc < 0 ? -1 : 0;
	}
	if (!strstr(s, "-->")) {
		/* a cue identifier: the timing must follow */
		if ((rc = vtt_next(v)) < 0)
			return -1;
		if (!rc || !strstr(v->r.buf.data, "-->"))
			return import_fail(v->st, v->r.line,
					   "a cue identifier must be followed by its timing line");
	}
	return vtt_cue(v);
}

static int vtt_run(const struct anno_input *in, const struct anno_target *target,
		   struct anno_list *out, const struct anno_sink *sink,
		   struct anno_import_error *err)
{
	struct import_state st;
	struct vtt v = {.st = &st, .target = target};
	import_begin(&st, out, sink, err);
	v.text.max = IMPORT_MAX_TEXT;
	int rc = import_lines_open(&v.r, in, IMPORT_MAX_TEXT, &st);
	if (rc == 0)
		rc = vtt_header(&v);
	while (rc == 0 && (rc = vtt_next(&v)) == 1)
		rc = v.r.buf.len ? vtt_block(&v) : 0;
	import_lines_close(&v.r);
	import_buf_release(&v.text);
	free(v.language);
	return import_finish(&st, rc);
}

int anno_import_vtt(const char *path, const struct anno_target *target, struct anno_list *out,
		    struct anno_import_error *err)
{
	struct anno_input in = {.name = path, .path = path};
	return vtt_run(&in, target, out, NULL, err);
}

int anno_parse_vtt(const struct anno_input *in, const struct anno_target *target,
		   const struct anno_sink *sink, struct anno_import_error *err)
{
	return vtt_run(in, target, NULL, sink, err);
}
