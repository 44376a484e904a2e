/*
 * encoding.h
 *		Text parameters of the KDF in UTF-8 (TS 33.220 Annex B.2.1).
 */
#ifndef MTCBIND_ENCODING_H
#define MTCBIND_ENCODING_H

/*
 * Returns data (len octets in the database encoding) as UTF-8, and its
 * length in *utf8_len.  A character with no UTF-8 form is an error (22P05, untranslatable_character)
 * naming argname, never showing the octets: they are key-derivation input.
 */
extern const char *mtcbind_text_to_utf8(const char *data, size_t len,
										const char *argname, size_t *utf8_len);

/* True when the len octets at s are all 7-bit ASCII. */
extern bool mtcbind_is_ascii(const char *s, size_t len);

#endif							/* MTCBIND_ENCODING_H */
