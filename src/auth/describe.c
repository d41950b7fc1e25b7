/*
 * describe.c: service descriptions and probe results (describe.h), following the Authorization
 * Flow API 2.0 (§3-§6) and the Authentication API 1.0 (§2).
 */
#include "auth/describe.h"

#include <stdio.h>
#include <string.h>

#include "core/strings.h"

json_t *auth_lang(const char *text)
{
	return json_pack("{s:[s]}", "en", text ? text : "");
}

int auth_realm_segment(const char *realm, char *out, size_t n)
{
	char path[128];
	snprintf(path, sizeof path, "/%s", realm);
	return strings_url_encode(path, out, n);
}

static const char *describe_profile2(const struct auth_policy *p)
{
	if (p->kind == AUTH_KIOSK)
		return "kiosk";
	/* public under embargo: nothing to open, the token service just says no until the date */
	return p->kind == AUTH_EXTERNAL || p->kind == AUTH_PUBLIC ? "external" : "active";
}

static json_t *describe_access2(const struct auth_policy *p, const char *origin)
{
	char seg[400], url[1400];
	auth_realm_segment(p->realm, seg, sizeof seg);
	json_t *access = json_object();
	if (p->kind != AUTH_EXTERNAL && p->kind != AUTH_PUBLIC) {
		snprintf(url, sizeof url, "%s/auth/access/%s", origin, seg);
		json_object_set_new(access, "id", json_string(url));
	}
	json_object_set_new(access, "type", json_string("AuthAccessService2"));
	json_object_set_new(access, "profile", json_string(describe_profile2(p)));
	json_object_set_new(access, "label", auth_lang(p->label));
	if (p->kind == AUTH_LOGIN || p->kind == AUTH_CLICKTHROUGH) {
		json_object_set_new(access, "heading", auth_lang(p->heading));
		json_object_set_new(access, "note", auth_lang(p->note));
		json_object_set_new(access, "confirmLabel", auth_lang(p->confirm_label));
	}
	json_t *inner = json_array();
	snprintf(url, sizeof url, "%s/auth/2/token/%s", origin, seg);
	json_array_append_new(inner, json_pack("{s:s, s:s, s:o, s:o}", "id", url, "type",
					       "AuthAccessTokenService2", "errorHeading",
					       auth_lang("Access was not granted"), "errorNote",
					       auth_lang(p->note)));
	snprintf(url, sizeof url, "%s/auth/logout", origin);
	json_array_append_new(inner, json_pack("{s:s, s:s, s:o}", "id", url, "type",
					       "AuthLogoutService2", "label",
					       auth_lang("Log out of this image server")));
	json_object_set_new(access, "service", inner);
	return access;
}

json_t *auth_describe_probe2(const struct auth_policy *p, const char *origin,
			     const char *probe_url)
{
	/*
	 * "profile" is not among the probe's properties in Auth 2.0 §5.1 (clients go by "type"),
	 * but Mirador 4.0 calls profile.match() on every service of an image and stops with a
	 * TypeError on one without: with it, Mirador skips the probe and uses the 1.0 services.
	 */
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:[o]}", "id", probe_url, "type",
			 "AuthProbeService2", "profile", "http://iiif.io/api/auth/2/probe",
			 "errorHeading", auth_lang(p->heading), "errorNote", auth_lang(p->note),
			 "service", describe_access2(p, origin));
}

static const char *describe_profile1(const struct auth_policy *p)
{
	static const char *const names[] = { "external", "login", "clickthrough", "kiosk",
					     "external" };
	return names[p->kind];
}

json_t *auth_describe_v1(const struct auth_policy *p, const char *origin)
{
	char seg[400], url[1400], profile[80];
	auth_realm_segment(p->realm, seg, sizeof seg);
	snprintf(profile, sizeof profile, "http://iiif.io/api/auth/1/%s", describe_profile1(p));
	json_t *svc = json_pack("{s:s}", "@context", AUTH1_CONTEXT);
	if (p->kind != AUTH_EXTERNAL && p->kind != AUTH_PUBLIC) {
		snprintf(url, sizeof url, "%s/auth/access/%s", origin, seg);
		json_object_set_new(svc, "@id", json_string(url));
	}
	json_object_set_new(svc, "profile", json_string(profile));
	json_object_set_new(svc, "label", json_string(p->label));
	json_object_set_new(svc, "header", json_string(p->heading));
	json_object_set_new(svc, "description",
			    json_string(p->kind == AUTH_CLICKTHROUGH && p->terms[0] ? p->terms
										     : p->note));
	json_object_set_new(svc, "confirmLabel", json_string(p->confirm_label));
	json_object_set_new(svc, "failureHeader", json_string("Access was not granted"));
	json_object_set_new(svc, "failureDescription", json_string(p->note));
	json_t *inner = json_array();
	snprintf(url, sizeof url, "%s/auth/1/token/%s", origin, seg);
	json_array_append_new(inner, json_pack("{s:s, s:s}", "@id", url, "profile",
					       "http://iiif.io/api/auth/1/token"));
	snprintf(url, sizeof url, "%s/auth/logout", origin);
	json_array_append_new(inner, json_pack("{s:s, s:s, s:s}", "@id", url, "profile",
					       "http://iiif.io/api/auth/1/logout", "label",
					       "Log out of this image server"));
	json_object_set_new(svc, "service", inner);
	return svc;
}

json_t *auth_describe_probe_result(const struct auth_policy *p, int status,
				   const char *substitute_id, const char *substitute_type,
				   json_t *substitute_service, time_t now)
{
	json_t *r = json_pack("{s:s, s:s, s:i}", "@context", AUTH2_CONTEXT, "type",
			      "AuthProbeResult2", "status", status);
	if (status != 200 && substitute_id) {
		json_t *sub = json_pack("{s:s, s:s, s:o}", "id", substitute_id, "type",
					substitute_type, "label", auth_lang(p->degraded_label));
		if (substitute_service)
			json_object_set_new(sub, "service", json_pack("[o]", substitute_service));
		json_object_set_new(r, "substitute", json_pack("[o]", sub));
	} else {
		json_decref(substitute_service);
	}
	if (status != 200 && p) {
		char note[400];
		bool embargoed = p->embargo_until && now < p->embargo_until;
		if (embargoed) {
			struct tm tm;
			gmtime_r(&p->embargo_until, &tm);
			strftime(note, sizeof note, "This material is under embargo until %Y-%m-%d.",
				 &tm);
		}
		json_object_set_new(r, "heading", auth_lang(embargoed ? "Under embargo" : p->heading));
		json_object_set_new(r, "note", auth_lang(embargoed ? note : p->note));
	}
	return r;
}
