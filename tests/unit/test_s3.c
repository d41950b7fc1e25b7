/*
 * test_s3.c: S3 addressing and signing (src/storage/s3.c). Each request is sent by libcurl to a
 * one-shot listener on 127.0.0.1 (CURLOPT_CONNECT_TO keeps the Host of the example), which keeps
 * what libcurl sent, so the Authorization header can be compared with AWS's published examples.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "storage/s3.h"
#include "storage/s3_list.h"
#include "unit.h"

/* AWS's example credentials (S3 API reference, "Signature Calculations ... Examples") */
#define EX_ACCESS "AKIAIOSFODNN7EXAMPLE"
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct listener {
	int fd;
	int port;
	char request[8192];
};

static void *listener_serve(void *arg)
{
	struct listener *l = arg;
	int c = accept(l->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	size_t got = 0;
	ssize_t n;
	while (got < sizeof l->request - 1 &&
	       (n = read(c, l->request + got, sizeof l->request - 1 - got)) > 0) {
		got += (size_t)n;
		l->request[got] = '\0';
		if (strstr(l->request, "\r\n\r\n"))
			break;
	}
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	if (write(c, reply, sizeof reply - 1) < 0)
		perror("listener write");
	close(c);
	return NULL;
}

static int listener_open(struct listener *l)
{
	memset(l, 0, sizeof *l);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, sizeof a) || listen(l->fd, 1) ||
	    getsockname(l->fd, (struct sockaddr *)&a, &len))
		return -1;
	l->port = ntohs(a.sin_port);
	return 0;
}

/* Sends r as h is set up, to the listener in place of host:80; returns the request it got. */
static const char *send_captured(CURL *h, const char *host, struct listener *l)
{
	char connect_to[256];
	snprintf(connect_to, sizeof connect_to, "%s:80:127.0.0.1:%d", host, l->port);
	struct curl_slist *to = curl_slist_append(NULL, connect_to);
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, to);
	pthread_t t;
	pthread_create(&t, NULL, listener_serve, l);
	CURLcode rc = curl_easy_perform(h);
	pthread_join(t, NULL);
	curl_slist_free_all(to);
	CHECK(rc == CURLE_OK, "request to the listener: %s", curl_easy_strerror(rc));
	return l->request;
}

/* The value of header name in a captured request ("" if absent), in buf. */
static const char *header_of(const char *request, const char *name, char *buf, size_t n)
{
	buf[0] = '\0';
	for (const char *line = request; line && *line; line = strstr(line, "\r\n")) {
		line += line[0] == '\r' ? 2 : 0;
		size_t len = strlen(name);
		if (!strncasecmp(line, name, len) && line[len] == ':') {
			const char *v = line + len + 1 + (line[len + 1] == ' ');
			const char *end = strstr(v, "\r\n");
			snprintf(buf, n, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
			break;
		}
	}
	return buf;
}

static struct s3_config example_config(void)
{
	return (struct s3_config){
		.endpoint = "http://s3.amazonaws.com",
		.region = "us-east-1",
		.bucket = "examplebucket",
		.prefix = "",
		.access_key = EX_ACCESS,
		.secret_key = EX_SECRET,
	};
}

/* Signs and sends a request like AWS's example; returns its Authorization header in buf. */
static const char *example_authorization(const struct s3_config *c, const char *key,
					 const struct s3_param *params, size_t n,
					 const char *range, char *buf, size_t buf_n)
{
	struct s3_request r;
	struct iiifd_error err = {0};
	struct listener l;
	buf[0] = '\0';
	if (listener_open(&l)) {
		CHECK(0, "listener: %s", strerror(errno));
		return buf;
	}
	CHECK(s3_request_build(c, key, params, n, range, "20130524T000000Z", &r, &err) == 0,
	      "build: %s", err.msg);
	CURL *h = curl_easy_init();
	s3_request_apply(h, c, &r);
	header_of(send_captured(h, "examplebucket.s3.amazonaws.com", &l), "Authorization", buf,
		  buf_n);
	curl_easy_cleanup(h);
	s3_request_release(&r);
	close(l.fd);
	return buf;
}

/* AWS's published examples (S3 API reference, "Examples: Signature Calculations"). */
static void test_aws_examples(void)
{
	static const struct s3_param list[] = {{"prefix", "J"}, {"max-keys", "2"}}; /* unsorted */
	static const struct s3_param lifecycle[] = {{"lifecycle", ""}}; /* no value */
	static const struct {
		const char *name, *key;
		const struct s3_param *params;
		size_t n;
		const char *range, *signed_headers, *signature;
	} examples[] = {
		{"GET Object (first 10 bytes)", "test.txt", NULL, 0, "bytes=0-9",
		 "host;range;x-amz-content-sha256;x-amz-date",
		 "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		{"GET Bucket (List Objects)", "/", list, 2, NULL,
		 "host;x-amz-content-sha256;x-amz-date",
		 "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
		{"GET Bucket Lifecycle", "/", lifecycle, 1, NULL,
		 "host;x-amz-content-sha256;x-amz-date",
		 "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
	};
	struct s3_config c = example_config();
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
		char auth[512], want[128];
		example_authorization(&c, examples[i].key, examples[i].params, examples[i].n,
				      examples[i].range, auth, sizeof auth);
		CHECK(strstr(auth, "Credential=" EX_ACCESS "/20130524/us-east-1/s3/aws4_request"),
		      "%s: credential scope in '%s'", examples[i].name, auth);
		snprintf(want, sizeof want, "SignedHeaders=%s,", examples[i].signed_headers);
		CHECK(strstr(auth, want), "%s: %s in '%s'", examples[i].name, want, auth);
		snprintf(want, sizeof want, "Signature=%s", examples[i].signature);
		CHECK(strstr(auth, want), "%s: AWS's signature in '%s'", examples[i].name, auth);
	}
}

static void test_urls(void)
{
	struct s3_config c = example_config();
	c.prefix = "scans/2024 ü/";
	const struct s3_param params[] = {{"prefix", "a b/c+d"}, {"list-type", "2"},
					  {"continuation-token", "x=/y"}};
	struct s3_request r;
	struct iiifd_error err = {0};
	CHECK(s3_request_build(&c, "book/page 1.tif", NULL, 0, NULL, NULL, &r, &err) == 0, "%s",
	      err.msg);
	CHECK_STR(r.url, "http://examplebucket.s3.amazonaws.com/scans/2024%20%C3%BC/book/page%201.tif",
		  "virtual-hosted key below the prefix");
	s3_request_release(&r);
	c.path_style = true;
	c.endpoint = "http://127.0.0.1:9000";
	CHECK(s3_request_build(&c, "/", params, 3, NULL, NULL, &r, &err) == 0, "%s", err.msg);
	CHECK_STR(r.url, "http://127.0.0.1:9000/examplebucket/?continuation-token=x%3D%2Fy"
			 "&list-type=2&prefix=a%20b%2Fc%2Bd",
		  "path style, bucket root, sorted and encoded query");
	s3_request_release(&r);
	c.session_token = "tok/en+";
	CHECK(s3_request_build(&c, "k", NULL, 0, NULL, NULL, &r, &err) == 0, "%s", err.msg);
	bool token = false;
	for (struct curl_slist *h = r.headers; h; h = h->next)
		token |= !strcmp(h->data, "x-amz-security-token: tok/en+");
	CHECK(token, "session credentials: x-amz-security-token is sent (and signed)");
	s3_request_release(&r);
}

static void test_config_from_uri(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SK", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_DEFAULT_REGION");
	setenv("AWS_REGION", "eu-west-1", 1);
	struct s3_config c = {0};
	struct iiifd_error err = {0};
	CHECK(s3_config_from_uri("s3://my-bucket/scans", &c, &err) == 0, "%s", err.msg);
	CHECK_STR(c.bucket, "my-bucket", "bucket");
	CHECK_STR(c.prefix, "scans/", "prefix gets its slash");
	CHECK_STR(c.endpoint, "https://s3.eu-west-1.amazonaws.com", "AWS endpoint of the region");
	CHECK(!c.path_style, "AWS: virtual-hosted style");
	CHECK_STR(c.access_key, "AK", "key from the environment");
	s3_config_release(&c);

	struct s3_config set = {.endpoint = g_strdup("http://127.0.0.1:4568/"),
				.access_key = g_strdup("from-config")};
	CHECK(s3_config_from_uri("s3://bucket.with.dots", &set, &err) == 0, "%s", err.msg);
	CHECK_STR(set.endpoint, "http://127.0.0.1:4568", "configured endpoint, no trailing slash");
	CHECK(set.path_style, "another endpoint: path style");
	CHECK_STR(set.access_key, "from-config", "the config wins over the environment");
	CHECK_STR(set.prefix, "", "no prefix");
	s3_config_release(&set);

	const char *bad[] = {"http://x/y", "s3://", "s3://ab", "s3://Upper/x", "s3://b_b/x",
			     "s3://bucket/a//b", "s3://bucket/../x", NULL};
	for (const char **b = bad; *b; b++) {
		struct s3_config x = {0};
		err.http_status = 0;
		CHECK(s3_config_from_uri(*b, &x, &err) == -1 && err.http_status == 400,
		      "%s is refused (%s)", *b, err.msg);
		s3_config_release(&x);
	}
	unsetenv("AWS_SECRET_ACCESS_KEY");
	struct s3_config none = {0};
	CHECK(s3_config_from_uri("s3://bucket", &none, &err) == -1 && strstr(err.msg, "credentials"),
	      "no secret: refused, saying so (%s)", err.msg);
	s3_config_release(&none);
}

static void test_origin(void)
{
	static const struct {
		const char *url, *endpoint, *prefix;
	} good[] = {
		{"https://images.example.org/iiif/src", "https://images.example.org", "iiif/src/"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080", ""},
		{"http://h", "http://h", ""},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct s3_config c = {0};
		struct iiifd_error err = {0};
		CHECK(s3_config_from_origin(good[i].url, &c, &err) == 0, "%s: %s", good[i].url,
		      err.msg);
		CHECK(c.endpoint && !strcmp(c.endpoint, good[i].endpoint) && c.prefix &&
			      !strcmp(c.prefix, good[i].prefix) && !c.bucket,
		      "%s: endpoint %s prefix %s", good[i].url, c.endpoint, c.prefix);
		if (i == 0) {
			struct s3_request r;
			s3_request_build(&c, "a b/p1.tif", NULL, 0, "bytes=0-9", NULL, &r, &err);
			CHECK_STR(r.url, "https://images.example.org/iiif/src/a%20b/p1.tif", "origin url");
			CHECK(r.headers && !strcmp(r.headers->data, "Range: bytes=0-9") &&
				      !r.headers->next,
			      "an origin gets the Range header and nothing of S3's");
			s3_request_release(&r);
		}
		s3_config_release(&c);
	}
	const char *bad[] = {"ftp://h/x", "http://", "http://user:pw@h/x", "http://h/x?y=1",
			     "http://h/a/../b", "http://h/a//b", "file:///etc", NULL};
	for (const char **b = bad; *b; b++) {
		struct s3_config c = {0};
		struct iiifd_error err = {0};
		CHECK(s3_config_from_origin(*b, &c, &err) == -1 && err.http_status == 400,
		      "%s refused (%s)", *b, err.msg);
		s3_config_release(&c);
	}
}

static int parse(const char *xml, struct s3_listing *l, struct iiifd_error *err)
{
	return s3_list_parse(xml, strlen(xml), l, err);
}

static void test_list_page(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><Prefix>scans/</Prefix><KeyCount>4</KeyCount>"
		"<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxL+tok=</NextContinuationToken>"
		"<Contents><Key>scans/a &amp; b.tif</Key><LastModified>2009-10-12T17:50:30.000Z"
		"</LastModified><ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>"
		"<Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>"
		"<Contents><Key>scans/../../etc/passwd</Key><Size>1</Size></Contents>"
		"<Contents><Key>scans/Été.jp2</Key><Size>x</Size></Contents>"
		"<CommonPrefixes><Prefix>scans/book/</Prefix></CommonPrefixes>"
		"<CommonPrefixes><Prefix>scans//</Prefix></CommonPrefixes>"
		"</ListBucketResult>";
	struct s3_listing l;
	struct iiifd_error err = {0};
	CHECK(parse(xml, &l, &err) == 0, "%s", err.msg);
	CHECK_INT(l.n_objects, 2, "objects (the one escaping the prefix dropped)");
	CHECK_INT(l.dropped, 2, "dropped unsafe keys");
	if (l.n_objects == 2) {
		CHECK_STR(l.objects[0].key, "scans/a & b.tif", "key, entity decoded");
		CHECK_STR(l.objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"", "etag");
		CHECK_INT(l.objects[0].size, 434234, "size");
		CHECK_INT(l.objects[0].modified, 1255369830, "LastModified");
		CHECK_STR(l.objects[1].key, "scans/Été.jp2", "UTF-8 key");
		CHECK_INT(l.objects[1].size, -1, "malformed size: -1");
		CHECK_INT(l.objects[1].modified, 0, "no LastModified: 0");
	}
	CHECK(l.n_prefixes == 1 && !strcmp(l.prefixes[0], "scans/book/"), "common prefixes");
	CHECK(l.truncated && l.next_token && !strcmp(l.next_token, "1ueGcxL+tok="), "token");
	s3_listing_release(&l);
}

static void test_list_errors(void)
{
	const struct {
		const char *xml, *reason;
	} bad[] = {
		{"not xml at all", "not XML"},
		{"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
		 "AccessDenied: Access Denied"},
		{"<html><body>proxy error</body></html>", "not a ListBucketResult"},
		{"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		 "NextContinuationToken"},
		/* entities are not expanded, nor external ones fetched */
		{"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		 "<ListBucketResult><Contents><Key>&e;</Key></Contents></ListBucketResult>", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct s3_listing l;
		struct iiifd_error err = {0};
		int rc = parse(bad[i].xml, &l, &err);
		if (bad[i].reason)
			CHECK(rc == -1 && err.http_status == 502 && strstr(err.msg, bad[i].reason),
			      "%.40s: 502 with '%s', got %d '%s'", bad[i].xml, bad[i].reason, rc,
			      err.msg);
		else
			CHECK(rc == 0 && l.n_objects == 0, "external entity: no key read (%zu)",
			      l.n_objects);
		s3_listing_release(&l);
	}
	GString *big = g_string_new("<ListBucketResult>");
	for (int i = 0; i <= S3_LIST_MAX_ENTRIES; i++)
		g_string_append_printf(big, "<Contents><Key>k%d</Key><Size>1</Size></Contents>", i);
	g_string_append(big, "</ListBucketResult>");
	struct s3_listing l;
	struct iiifd_error err = {0};
	CHECK(parse(big->str, &l, &err) == -1 && err.http_status == 502, "too many entries: %s",
	      err.msg);
	g_string_free(big, TRUE);
}

static void test_key_safe(void)
{
	const char *good[] = {"a", "a/b.tif", "a/", "a b/Été.jp2", "..a/b..", NULL};
	const char *bad[] = {"", "/a", "a//b", "../a", "a/..", "a/./b", ".", "a\\b", "a\nb",
			     "\xff", "//", NULL};
	for (const char **k = good; *k; k++)
		CHECK(s3_key_safe(*k), "'%s' is safe", *k);
	for (const char **k = bad; *k; k++)
		CHECK(!s3_key_safe(*k), "'%s' is not safe", *k);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	UNIT_RUN(test_aws_examples);
	UNIT_RUN(test_urls);
	UNIT_RUN(test_origin);
	UNIT_RUN(test_config_from_uri);
	UNIT_RUN(test_list_page);
	UNIT_RUN(test_list_errors);
	UNIT_RUN(test_key_safe);
	curl_global_cleanup();
	return unit_report("s3");
}
