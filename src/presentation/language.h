/*
 * language.h: language tags as people read them. Captions, transcripts and OCR name their
 * language with a code ("en", "fr-CA"); viewers show a track's label, so it should say "English".
 */
#ifndef IIIFD_PRESENTATION_LANGUAGE_H
#define IIIFD_PRESENTATION_LANGUAGE_H

/*
 * The name of the language of a BCP 47 tag in that language ("fr-CA" -> "Français"), from its
 * primary subtag; NULL when the language is not one iiifd knows (callers then show the tag).
 * The string is static.
 */
const char *pres_language_name(const char *tag);

#endif
