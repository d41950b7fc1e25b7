/*
 * language.c: native names of the languages collections most often caption and transcribe in,
 * looked up by the primary subtag of a BCP 47 tag.
 */
#include "presentation/language.h"

#include <glib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* code: ISO 639-1; t, b: the ISO 639-2 terminology and bibliographic codes (OCR engines). */
static const struct {
	const char *code, *t, *b, *name;
} language_names[] = {
	{ "ar", "ara", "ara", "العربية" },      { "ca", "cat", "cat", "Català" },
	{ "cs", "ces", "cze", "Čeština" },      { "cy", "cym", "wel", "Cymraeg" },
	{ "da", "dan", "dan", "Dansk" },        { "de", "deu", "ger", "Deutsch" },
	{ "el", "ell", "gre", "Ελληνικά" },     { "en", "eng", "eng", "English" },
	{ "es", "spa", "spa", "Español" },      { "et", "est", "est", "Eesti" },
	{ "eu", "eus", "baq", "Euskara" },      { "fa", "fas", "per", "فارسی" },
	{ "fi", "fin", "fin", "Suomi" },        { "fr", "fra", "fre", "Français" },
	{ "ga", "gle", "gle", "Gaeilge" },      { "he", "heb", "heb", "עברית" },
	{ "hi", "hin", "hin", "हिन्दी" },          { "hr", "hrv", "hrv", "Hrvatski" },
	{ "hu", "hun", "hun", "Magyar" },       { "is", "isl", "ice", "Íslenska" },
	{ "it", "ita", "ita", "Italiano" },     { "ja", "jpn", "jpn", "日本語" },
	{ "ko", "kor", "kor", "한국어" },       { "la", "lat", "lat", "Latina" },
	{ "lt", "lit", "lit", "Lietuvių" },     { "lv", "lav", "lav", "Latviešu" },
	{ "nl", "nld", "dut", "Nederlands" },   { "no", "nor", "nor", "Norsk" },
	{ "nb", "nob", "nob", "Norsk bokmål" }, { "nn", "nno", "nno", "Norsk nynorsk" },
	{ "pl", "pol", "pol", "Polski" },       { "pt", "por", "por", "Português" },
	{ "ro", "ron", "rum", "Română" },       { "ru", "rus", "rus", "Русский" },
	{ "sk", "slk", "slo", "Slovenčina" },   { "sl", "slv", "slv", "Slovenščina" },
	{ "sv", "swe", "swe", "Svenska" },      { "tr", "tur", "tur", "Türkçe" },
	{ "uk", "ukr", "ukr", "Українська" },   { "zh", "zho", "chi", "中文" },
};

#define LANGUAGE_COUNT (sizeof language_names / sizeof language_names[0])

const char *pres_language_name(const char *tag)
{
	if (!tag)
		return NULL;
	size_t n = strcspn(tag, "-_");
	for (size_t i = 0; i < LANGUAGE_COUNT; i++)
		if (strlen(language_names[i].code) == n &&
		    strncasecmp(language_names[i].code, tag, n) == 0)
			return language_names[i].name;
	return NULL;
}

char *pres_language_tag(const char *code, size_t len)
{
	size_t primary = 0;
	while (primary < len && code[primary] != '-' && code[primary] != '_')
		primary++;
	if (primary < 2 || primary > 8)
		return NULL;
	for (size_t i = 0; i < len && code[i] != '_'; i++)
		if (!g_ascii_isalnum(code[i]) && code[i] != '-')
			return NULL;
	/* "eng" is "en" in BCP 47; "_frak" (an OCR engine's script variant) is not BCP 47 */
	size_t keep = primary;
	while (keep < len && code[keep] != '_')
		keep++;
	const char *two = NULL;
	for (size_t i = 0; primary == 3 && i < LANGUAGE_COUNT; i++)
		if (strncasecmp(code, language_names[i].t, 3) == 0 ||
		    strncasecmp(code, language_names[i].b, 3) == 0)
			two = language_names[i].code;
	char *tag = two ? g_strdup_printf("%s%.*s", two, (int)(keep - primary), code + primary)
			: g_strndup(code, keep);
	for (size_t i = 0; tag[i] && tag[i] != '-'; i++)
		tag[i] = g_ascii_tolower(tag[i]);
	return tag;
}
