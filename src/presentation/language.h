/*
 * language.h: language tags as people read them. Captions, transcripts and OCR name their
 * language with a code ("en", "fr-CA"); viewers show a track's label, so it should say "English".
 */
#ifndef IIIFD_PRESENTATION_LANGUAGE_H
#define IIIFD_PRESENTATION_LANGUAGE_H

#include <stddef.h>

/*
 * The name of the language of a BCP 47 tag in that language ("fr-CA" -> "Français"), from its
 * primary subtag; NULL when the language is not one iiifd knows (callers then show the tag).
 * The string is static.
 */
const char *pres_language_name(const char *tag);

/*
 * A language code as OCR and caption files write it, as a BCP 47 tag: ISO 639-2 codes of
 * languages with a two-letter code become that ("eng" -> "en", "fre" -> "fr"), the primary
 * subtag is lower-cased, a Tesseract-style "_variant" is dropped ("deu_frak" -> "de").
 * g_malloc'd, or NULL when code (len bytes) is not a language code at all.
 */
char *pres_language_tag(const char *code, size_t len);

#endif
