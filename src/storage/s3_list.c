/*
 * s3_list.c: ListBucketResult (ListObjectsV2) pages to s3_listing. Elements are matched by local
 * name, so the S3 namespace (or its absence, as some servers send) does not matter.
 */
#include "storage/s3_list.h"

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

bool s3_key_safe(const char *key)
{
	if (!key || !*key || key[0] == '/')
		return false;
	gchar **segs = g_strsplit(key, "/", -1);
	bool ok = true;
	for (int i = 0; segs[i] && ok; i++) {
		bool last = !segs[i + 1];
		/* "a/" (a folder marker or a common prefix) ends in one empty segment */
		ok = (segs[i][0] || (last && i > 0)) && strcmp(segs[i], ".") && strcmp(segs[i], "..");
	}
	g_strfreev(segs);
	for (const unsigned char *p = (const unsigned char *)key; ok && *p; p++)
		ok = *p >= 0x20 && *p != 0x7f && *p != '\\';
	return ok && g_utf8_validate(key, -1, NULL);
}

void s3_listing_release(struct s3_listing *l)
{
	for (size_t i = 0; i < l->n_objects; i++) {
		free(l->objects[i].key);
		free(l->objects[i].etag);
	}
	free(l->objects);
	for (size_t i = 0; i < l->n_prefixes; i++)
		free(l->prefixes[i]);
	free(l->prefixes);
	free(l->next_token);
	memset(l, 0, sizeof *l);
}

static bool s3_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The text of the first child element called name (malloc'd), or NULL. */
static char *s3_child_text(const xmlNode *parent, const char *name)
{
	for (const xmlNode *c = parent->children; c; c = c->next)
		if (s3_is(c, name)) {
			xmlChar *t = xmlNodeGetContent(c);
			char *out = strdup(t ? (const char *)t : "");
			xmlFree(t);
			return out;
		}
	return NULL;
}

/* "2009-10-12T17:50:30.000Z" (fraction optional) to seconds since the epoch; 0 if malformed. */
static int64_t s3_time(const char *iso)
{
	GDateTime *t = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;
	int64_t secs = t ? g_date_time_to_unix(t) : 0;
	if (t)
		g_date_time_unref(t);
	return secs;
}

static int s3_add_object(struct s3_listing *l, const xmlNode *contents)
{
	char *key = s3_child_text(contents, "Key");
	if (!s3_key_safe(key)) {
		free(key);
		l->dropped++;
		return 0;
	}
	struct s3_object *grown = realloc(l->objects, (l->n_objects + 1) * sizeof *grown);
	if (!grown) {
		free(key);
		return -1;
	}
	l->objects = grown;
	char *size = s3_child_text(contents, "Size"), *modified = s3_child_text(contents,
										  "LastModified");
	char *etag = s3_child_text(contents, "ETag");
	char *end = NULL;
	long long n = size ? strtoll(size, &end, 10) : -1;
	grown[l->n_objects++] = (struct s3_object){
		.key = key,
		.etag = etag ? etag : strdup(""),
		.size = end && !*end && n >= 0 ? n : -1,
		.modified = s3_time(modified),
	};
	free(size);
	free(modified);
	return 0;
}

static int s3_add_prefix(struct s3_listing *l, const xmlNode *common)
{
	char *p = s3_child_text(common, "Prefix");
	if (!s3_key_safe(p)) {
		free(p);
		l->dropped++;
		return 0;
	}
	char **grown = realloc(l->prefixes, (l->n_prefixes + 1) * sizeof *grown);
	if (!grown) {
		free(p);
		return -1;
	}
	l->prefixes = grown;
	grown[l->n_prefixes++] = p;
	return 0;
}

/* An S3 <Error> document as a reason. */
static int s3_error_doc(const xmlNode *root, struct iiifd_error *err)
{
	char *code = s3_child_text(root, "Code"), *msg = s3_child_text(root, "Message");
	iiifd_error_set(err, 502, "object storage: %.48s: %.160s", code ? code : "error",
			msg ? msg : "(no message)");
	free(code);
	free(msg);
	return -1;
}

static int s3_list_read(const xmlNode *root, struct s3_listing *out, struct iiifd_error *err)
{
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (out->n_objects + out->n_prefixes + out->dropped >= S3_LIST_MAX_ENTRIES)
			return iiifd_error_set(err, 502, "object storage: a listing page has more"
							 " than %d entries",
					       S3_LIST_MAX_ENTRIES);
		int rc = s3_is(c, "Contents")	    ? s3_add_object(out, c)
			 : s3_is(c, "CommonPrefixes") ? s3_add_prefix(out, c)
						      : 0;
		if (rc)
			return iiifd_error_set(err, 500, "object storage listing: out of memory");
	}
	char *truncated = s3_child_text(root, "IsTruncated");
	out->truncated = truncated && !strcmp(truncated, "true");
	free(truncated);
	out->next_token = out->truncated ? s3_child_text(root, "NextContinuationToken") : NULL;
	if (out->truncated && (!out->next_token || !*out->next_token))
		return iiifd_error_set(err, 502, "object storage: a truncated listing without"
						 " NextContinuationToken (not ListObjectsV2?)");
	return 0;
}

int s3_list_parse(const char *xml, size_t len, struct s3_listing *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (len > INT32_MAX)
		return iiifd_error_set(err, 502, "object storage: listing too large");
	/* no network, no entity expansion, no DTD loading: the defaults plus NONET */
	xmlDoc *doc = xmlReadMemory(xml, (int)len, "listing.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc;
	if (!root)
		rc = iiifd_error_set(err, 502, "object storage: the listing is not XML");
	else if (s3_is(root, "Error"))
		rc = s3_error_doc(root, err);
	else if (!s3_is(root, "ListBucketResult"))
		rc = iiifd_error_set(err, 502, "object storage: <%.40s> is not a ListBucketResult",
				     (const char *)root->name);
	else
		rc = s3_list_read(root, out, err);
	xmlFreeDoc(doc);
	if (rc)
		s3_listing_release(out);
	return rc;
}
