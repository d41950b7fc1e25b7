/*
 * s3rver.h: an S3-compatible server for the unit tests of src/storage: s3rver from npm
 * (scripts/install-test-services), started on a free port of 127.0.0.1 over a temporary folder
 * with one bucket "bkt", objects stored below "root/" by signed PUTs, and stopped at the end.
 * Missing s3rver is a failure, not a skip: make test installs it.
 */
#ifndef IIIFD_TESTS_S3RVER_H
#define IIIFD_TESTS_S3RVER_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/s3.h"

#define S3RVER "build/test-services/node_modules/.bin/s3rver"

static pid_t server_pid;
static char endpoint[64];
static char workdir[64] = "/tmp/iiifd-remote-XXXXXX";

static inline int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static inline bool server_answers(void)
{
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, endpoint);
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	bool up = curl_easy_perform(h) == CURLE_OK;
	curl_easy_cleanup(h);
	return up;
}

static inline int server_start(void)
{
	if (access(S3RVER, X_OK)) {
		fprintf(stderr, "%s is missing: scripts/install-test-services installs it\n", S3RVER);
		return -1;
	}
	if (!mkdtemp(workdir))
		return -1;
	int port = free_port();
	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
	char port_s[16];
	snprintf(port_s, sizeof port_s, "%d", port);
	server_pid = fork();
	if (server_pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		/* s3rver 3.7 makes continuation tokens with a cipher Node 18 keeps in its legacy set */
		setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
		execl(S3RVER, "s3rver", "-d", workdir, "-a", "127.0.0.1", "-p", port_s, "--silent",
		      "--configure-bucket", "bkt", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 150 && !server_answers(); i++)
		usleep(100 * 1000);
	return server_answers() ? 0 : -1;
}

static inline void server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", workdir);
}

static inline struct s3_config config(void)
{
	return (struct s3_config){.endpoint = endpoint, .region = "us-east-1", .bucket = "bkt",
				  .prefix = "root/", .access_key = "S3RVER",
				  .secret_key = "S3RVER", .path_style = true};
}

/* Stores data at key (below root/) with a signed PUT. */
static inline int put(const char *key, const void *data, size_t len)
{
	char url[512];
	snprintf(url, sizeof url, "%s/bkt/root/%s", endpoint, key);
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
	curl_easy_setopt(h, CURLOPT_USERPWD, "S3RVER:S3RVER");
	long status = 0;
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return rc == CURLE_OK && status == 200 ? 0 : -1;
}

#endif
