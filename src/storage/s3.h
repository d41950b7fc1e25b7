/*
 * s3.h: requests to S3-compatible object storage (AWS, MinIO, Ceph RGW, s3rver ...), signed with
 * AWS Signature Version 4 by libcurl's built-in signer (CURLOPT_AWS_SIGV4), and to plain HTTP(S)
 * origins (unsigned, same addressing below a base path).
 *
 * libcurl 7.88 (Debian 12) needs help in two places, which this module gives:
 * - it signs the query string as it is written, so s3_request_build writes it sorted by name
 *   and encoded exactly as SigV4's canonical form wants (RFC 3986 unreserved characters only);
 * - it knows nothing of session credentials, so x-amz-security-token is added as a header
 *   (libcurl signs every header it is given).
 * docs/scaling.md ("Object storage") says which settings and environment variables apply.
 */
#ifndef IIIFD_STORAGE_S3_H
#define IIIFD_STORAGE_S3_H

#include <curl/curl.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Where a bucket is and how to sign for it. Every string is owned (s3_config_release). */
struct s3_config {
	char *endpoint; /* scheme://host[:port], no trailing slash */
	char *region;
	char *bucket; /* NULL: a plain HTTP(S) origin, read unsigned (s3_config_from_origin) */
	char *prefix; /* "" or a key prefix ending in "/" */
	char *access_key, *secret_key;
	char *session_token; /* NULL unless temporary credentials */
	/* endpoint/bucket/key (any S3-compatible server) rather than bucket.host/key (AWS) */
	bool path_style;
};

/*
 * Reads "s3://bucket[/prefix]" and fills the rest from the environment as AWS tools do:
 * AWS_ENDPOINT_URL (default https://s3.REGION.amazonaws.com, virtual-hosted style; any other
 * endpoint is addressed path style), AWS_REGION or AWS_DEFAULT_REGION (default us-east-1),
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. Fields already set in out
 * (from the config file) win over the environment. 400 for a malformed URI.
 */
int s3_config_from_uri(const char *uri, struct s3_config *out, struct iiifd_error *err);
void s3_config_release(struct s3_config *c);

/*
 * A plain HTTP(S) origin, "http(s)://host[:port]/path/": objects are read unsigned at
 * endpoint/path/key, by range like S3 objects, but cannot be listed. 400 for anything else
 * (a user in the URL, a query, '..' segments).
 */
int s3_config_from_origin(const char *url, struct s3_config *out, struct iiifd_error *err);

/* One query parameter; value may be "" (e.g. "list-type=2", "uploads="). */
struct s3_param {
	const char *name, *value;
};

/* A request ready for libcurl: the URL and the headers to sign and send (both owned). */
struct s3_request {
	char *url;
	struct curl_slist *headers;
};

/*
 * Builds a request for key (below c->prefix unless key starts with '/': then the bucket root)
 * with params in any order. range: "bytes=A-B" or NULL. amz_date: "YYYYMMDDTHHMMSSZ" to sign
 * with a fixed time (the tests, against AWS's published signatures), NULL for now (libcurl's
 * clock; a given date makes libcurl 7.88 send the header twice, which only tests can accept).
 */
int s3_request_build(const struct s3_config *c, const char *key, const struct s3_param *params,
		     size_t n_params, const char *range, const char *amz_date,
		     struct s3_request *out, struct iiifd_error *err);
void s3_request_release(struct s3_request *r);

/* Sets URL, headers, credentials and the signer on h (a GET); r and c must outlive the call. */
void s3_request_apply(CURL *h, const struct s3_config *c, const struct s3_request *r);

/*
 * Appends s to out encoded as SigV4's canonical URI and query want: every byte but A-Z a-z 0-9
 * - _ . ~ as %XX (upper-case hex); '/' kept when keep_slash (object keys in paths).
 */
void s3_uri_encode(GString *out, const char *s, bool keep_slash);

#endif
