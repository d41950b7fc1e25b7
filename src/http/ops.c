/*
 * ops.c: /metrics and /ready. The allow-list is parsed at every scrape (a few times a minute),
 * so there is no state to keep in step with the configuration.
 */
#include "http/ops.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "http/client.h"
#include "storage/root.h"

#define OPS_LOOPBACK "127.0.0.0/8, ::1"

int ops_metrics_allowed(const char *allow, const char *client, bool forwarded, bool *allowed,
			struct iiifd_error *err)
{
	struct iiifd_error perr = { 0 };
	struct http_proxies *list = http_proxies_parse(allow, &perr);
	struct http_proxies *loopback = http_proxies_parse(OPS_LOOPBACK, &perr);
	int rc = 0;
	*allowed = false;
	if (!list || !loopback)
		rc = iiifd_error_set(err, 500, "metrics-allow: %s", perr.msg);
	else
		*allowed = http_proxies_contains(list, client) &&
			   !(forwarded && http_proxies_contains(loopback, client));
	http_proxies_free(list);
	http_proxies_free(loopback);
	return rc;
}

bool ops_listener_refuses(const struct http_request *req, struct http_response *resp)
{
	if (!req->ops_listener || strcmp(req->path, "/metrics") == 0 ||
	    strcmp(req->path, "/ready") == 0 || strcmp(req->path, "/health") == 0)
		return false;
	struct iiifd_error err = { 0 };
	iiifd_error_set(&err, 404, "this address serves only /metrics, /ready and /health");
	http_response_error(resp, &err);
	return true;
}

void ops_metrics(const struct iiifd_config *cfg, const struct http_request *req,
		 struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	bool forwarded = http_request_header(req, "Forwarded") ||
			 http_request_header(req, "X-Forwarded-For");
	bool allowed = true;
	if (!req->ops_listener &&
	    ops_metrics_allowed(cfg->metrics_allow, req->client, forwarded, &allowed, &err) < 0) {
		log_error("%s", err.msg);
		return http_response_error(resp, &err);
	}
	if (!allowed) {
		iiifd_error_set(&err, 403, "metrics are answered only to the addresses in "
					   "metrics-allow (by default loopback, not forwarded)");
		return http_response_error(resp, &err);
	}
	size_t len;
	char *text = metrics_exposition("/proc/self/statm", &len);
	if (!text) {
		iiifd_error_set(&err, 500, "out of memory");
		return http_response_error(resp, &err);
	}
	GString *all = g_string_new_len(text, (gssize)len); /* and the object storage's counters */
	free(text);
	storage_metrics_append(all);
	len = all->len;
	text = g_string_free(all, FALSE);
	http_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	http_response_header(resp, "Cache-Control", "no-store");
	http_response_body(resp, text, len, g_free);
	resp->compressible = true;
}

void ops_ready(const struct pres_service *svc, const struct http_request *req,
	       struct http_response *resp)
{
	char reason[256];
	bool ready = pres_service_ready(svc, reason, sizeof reason);
	json_t *doc = ready ? json_pack("{sb}", "ready", 1)
			    : json_pack("{sb ss}", "ready", 0, "reason", reason);
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	resp->status = ready ? 200 : 503;
	http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Cache-Control", "no-store");
	if (!ready)
		http_response_header(resp, "Retry-After", "5");
	if (text)
		http_response_body(resp, text, strlen(text), free);
}
