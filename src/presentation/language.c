/*
 * language.c: native names of the languages collections most often caption and transcribe in,
 * looked up by the primary subtag of a BCP 47 tag.
 */
#include "presentation/language.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *code, *name;
} language_names[] = {
	{ "ar", "العربية" },   { "ca", "Català" },     { "cs", "Čeština" },
	{ "cy", "Cymraeg" },   { "da", "Dansk" },      { "de", "Deutsch" },
	{ "el", "Ελληνικά" },  { "en", "English" },    { "es", "Español" },
	{ "et", "Eesti" },     { "eu", "Euskara" },    { "fa", "فارسی" },
	{ "fi", "Suomi" },     { "fr", "Français" },   { "ga", "Gaeilge" },
	{ "he", "עברית" },     { "hi", "हिन्दी" },        { "hr", "Hrvatski" },
	{ "hu", "Magyar" },    { "is", "Íslenska" },   { "it", "Italiano" },
	{ "ja", "日本語" },    { "ko", "한국어" },     { "la", "Latina" },
	{ "lt", "Lietuvių" },  { "lv", "Latviešu" },   { "nl", "Nederlands" },
	{ "no", "Norsk" },     { "nb", "Norsk bokmål" }, { "nn", "Norsk nynorsk" },
	{ "pl", "Polski" },    { "pt", "Português" },  { "ro", "Română" },
	{ "ru", "Русский" },   { "sk", "Slovenčina" }, { "sl", "Slovenščina" },
	{ "sv", "Svenska" },   { "tr", "Türkçe" },     { "uk", "Українська" },
	{ "zh", "中文" },
};

const char *pres_language_name(const char *tag)
{
	if (!tag)
		return NULL;
	size_t n = strcspn(tag, "-_");
	for (size_t i = 0; i < sizeof language_names / sizeof language_names[0]; i++)
		if (strlen(language_names[i].code) == n &&
		    strncasecmp(language_names[i].code, tag, n) == 0)
			return language_names[i].name;
	return NULL;
}
