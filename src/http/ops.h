/*
 * ops.h: the endpoints for operators rather than IIIF clients: /metrics (Prometheus text, for
 * allowed clients only) and /ready (whether this instance can answer, for load balancers).
 * /health (liveness) stays in the router.
 */
#ifndef IIIFD_HTTP_OPS_H
#define IIIFD_HTTP_OPS_H

#include <stdbool.h>

#include "http/message.h"
#include "presentation/service.h"

/*
 * Whether client may read /metrics: its address is in allow ("addr, addr/bits, ..." as
 * trusted-proxies takes; "" = nobody), and, when it is a loopback address, the request was not
 * forwarded (a local proxy that is not in trusted-proxies would otherwise lend every outside
 * client its loopback address). -1 with err (500) when allow does not parse.
 */
int ops_metrics_allowed(const char *allow, const char *client, bool forwarded, bool *allowed,
			struct iiifd_error *err);

/*
 * On the operators' listener (metrics-address) only /metrics, /ready and /health are served:
 * true after answering anything else there with 404.
 */
bool ops_listener_refuses(const struct http_request *req, struct http_response *resp);

/*
 * GET /metrics: the exposition (core/metrics.h) to anyone on the operators' listener and to
 * allowed clients (cfg->metrics_allow) on the main one, 403 to others.
 */
void ops_metrics(const struct iiifd_config *cfg, const struct http_request *req,
		 struct http_response *resp);

/* GET /ready: 200 {"ready":true}, or 503 {"ready":false,"reason":"..."}. */
void ops_ready(const struct pres_service *svc, const struct http_request *req,
	       struct http_response *resp);

#endif
