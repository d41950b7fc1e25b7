/*
 * s3.c: addressing and signing S3 requests (see s3.h for what libcurl 7.88 is helped with).
 */
#include "storage/s3.h"

#include <stdlib.h>
#include <string.h>

void s3_uri_encode(GString *out, const char *s, bool keep_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (g_ascii_isalnum(*p) || strchr("-_.~", *p) || (keep_slash && *p == '/'))
			g_string_append_c(out, (char)*p);
		else
			g_string_append_printf(out, "%%%02X", *p);
	}
}

void s3_config_release(struct s3_config *c)
{
	char **fields[] = {&c->endpoint,   &c->region,     &c->bucket,	      &c->prefix,
			   &c->access_key, &c->secret_key, &c->session_token};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		g_free(*fields[i]);
		*fields[i] = NULL;
	}
}

/* *field = the environment variable's value unless *field is already set. */
static void s3_from_env(char **field, const char *name)
{
	const char *v = getenv(name);
	if (!*field && v && *v)
		*field = g_strdup(v);
}

/* A bucket name as S3 allows: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit. */
static bool s3_bucket_valid(const char *b, size_t len)
{
	if (len < 3 || len > 63 || !g_ascii_isalnum(b[0]) || !g_ascii_isalnum(b[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(g_ascii_islower(b[i]) || g_ascii_isdigit(b[i]) || b[i] == '.' || b[i] == '-'))
			return false;
	return true;
}

int s3_config_from_uri(const char *uri, struct s3_config *out, struct iiifd_error *err)
{
	if (!uri || strncmp(uri, "s3://", 5) != 0)
		return iiifd_error_set(err, 400, "%.64s: not an s3://bucket/prefix URI",
				       uri ? uri : "(none)");
	const char *bucket = uri + 5, *slash = strchr(bucket, '/');
	size_t blen = slash ? (size_t)(slash - bucket) : strlen(bucket);
	if (!s3_bucket_valid(bucket, blen))
		return iiifd_error_set(err, 400, "%.64s: the bucket name must be 3-63 characters"
					       " of a-z, 0-9, '.' and '-'", uri);
	const char *prefix = slash ? slash + 1 : "";
	if (strstr(prefix, "//") || strstr(prefix, "../") || !strcmp(prefix, ".."))
		return iiifd_error_set(err, 400, "%.64s: the prefix has an empty or '..' segment",
				       uri);
	out->bucket = g_strndup(bucket, blen);
	size_t plen = strlen(prefix);
	out->prefix = plen && prefix[plen - 1] != '/' ? g_strconcat(prefix, "/", NULL)
						       : g_strdup(prefix);
	s3_from_env(&out->region, "AWS_REGION");
	s3_from_env(&out->region, "AWS_DEFAULT_REGION");
	if (!out->region)
		out->region = g_strdup("us-east-1");
	bool aws = !out->endpoint && !getenv("AWS_ENDPOINT_URL");
	s3_from_env(&out->endpoint, "AWS_ENDPOINT_URL");
	if (!out->endpoint)
		out->endpoint = g_strdup_printf("https://s3.%s.amazonaws.com", out->region);
	size_t elen = strlen(out->endpoint);
	while (elen && out->endpoint[elen - 1] == '/')
		out->endpoint[--elen] = '\0';
	/* a bucket with dots does not match AWS's wildcard certificate as a host name */
	out->path_style = !aws || strchr(out->bucket, '.');
	s3_from_env(&out->access_key, "AWS_ACCESS_KEY_ID");
	s3_from_env(&out->secret_key, "AWS_SECRET_ACCESS_KEY");
	s3_from_env(&out->session_token, "AWS_SESSION_TOKEN");
	if (!out->access_key || !out->secret_key)
		return iiifd_error_set(err, 400, "%.64s: no credentials (s3-access-key and"
					       " s3-secret-key, or AWS_ACCESS_KEY_ID and"
					       " AWS_SECRET_ACCESS_KEY)", uri);
	return 0;
}

static int s3_param_cmp(const void *a, const void *b)
{
	const struct s3_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* The query in SigV4's canonical form: names sorted (names here are plain ASCII), encoded. */
static void s3_query(GString *url, const struct s3_param *params, size_t n)
{
	if (!n)
		return;
	struct s3_param *sorted = g_memdup2(params, n * sizeof *params);
	qsort(sorted, n, sizeof *sorted, s3_param_cmp);
	for (size_t i = 0; i < n; i++) {
		g_string_append_c(url, i ? '&' : '?');
		s3_uri_encode(url, sorted[i].name, false);
		g_string_append_c(url, '=');
		s3_uri_encode(url, sorted[i].value, false);
	}
	g_free(sorted);
}

/* The empty payload's SHA-256: every request here is a GET or HEAD. */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int s3_request_build(const struct s3_config *c, const char *key, const struct s3_param *params,
		     size_t n_params, const char *range, const char *amz_date,
		     struct s3_request *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	const char *scheme_end = strstr(c->endpoint, "://");
	if (!scheme_end)
		return iiifd_error_set(err, 400, "s3 endpoint %.64s has no scheme", c->endpoint);
	GString *url = g_string_new(NULL);
	if (!c->bucket) /* a plain HTTP origin: endpoint/prefix/key, nothing signed */
		g_string_append_printf(url, "%s/", c->endpoint);
	else if (c->path_style)
		g_string_append_printf(url, "%s/%s/", c->endpoint, c->bucket);
	else
		g_string_append_printf(url, "%.*s%s.%s/", (int)(scheme_end + 3 - c->endpoint),
				       c->endpoint, c->bucket, scheme_end + 3);
	bool from_root = key[0] == '/';
	if (!from_root)
		s3_uri_encode(url, c->prefix, true);
	s3_uri_encode(url, from_root ? key + 1 : key, true);
	s3_query(url, params, n_params);
	out->url = g_string_free(url, FALSE);
	char line[256];
	if (range && !c->bucket) {
		snprintf(line, sizeof line, "Range: %s", range);
		out->headers = curl_slist_append(out->headers, line);
	}
	if (!c->bucket)
		return 0;
	if (amz_date) {
		snprintf(line, sizeof line, "x-amz-date: %s", amz_date);
		out->headers = curl_slist_append(out->headers, line);
	}
	if (range) {
		snprintf(line, sizeof line, "Range: %s", range);
		out->headers = curl_slist_append(out->headers, line);
	}
	out->headers = curl_slist_append(out->headers, "x-amz-content-sha256: " S3_EMPTY_SHA256);
	if (c->session_token) {
		char *token = g_strconcat("x-amz-security-token: ", c->session_token, NULL);
		out->headers = curl_slist_append(out->headers, token);
		g_free(token);
	}
	return 0;
}

void s3_request_release(struct s3_request *r)
{
	g_free(r->url);
	curl_slist_free_all(r->headers);
	memset(r, 0, sizeof *r);
}

void s3_request_apply(CURL *h, const struct s3_config *c, const struct s3_request *r)
{
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
	if (!c->bucket)
		return;
	char sigv4[128];
	snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", c->region);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
}

int s3_config_from_origin(const char *url, struct s3_config *out, struct iiifd_error *err)
{
	bool http = url && !strncmp(url, "http://", 7), https = url && !strncmp(url, "https://", 8);
	const char *host = url ? url + (https ? 8 : 7) : NULL;
	size_t host_len = host ? strcspn(host, "/?#") : 0;
	if ((!http && !https) || host_len == 0 || strpbrk(host, "?#@"))
		return iiifd_error_set(err, 400, "%.64s: not an http(s)://host[:port]/path/ origin"
					       " (no user, query or fragment)",
				       url ? url : "(none)");
	const char *path = host + host_len;
	path += *path == '/';
	if (strstr(path, "//") || strstr(path, "../") || !strcmp(path, ".."))
		return iiifd_error_set(err, 400, "%.64s: the path has an empty or '..' segment", url);
	out->endpoint = g_strndup(url, (size_t)(host + host_len - url));
	size_t plen = strlen(path);
	out->prefix = plen && path[plen - 1] != '/' ? g_strconcat(path, "/", NULL) : g_strdup(path);
	out->bucket = NULL;
	return 0;
}
