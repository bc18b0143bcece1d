/* Authorized keys: the spellings the accounts service reads and the one it
 * shows, apart from any I/O so that a host fuzz target can build them. */
#ifndef ACCOUNTS_KEYS_H
#define ACCOUNTS_KEYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_TEXT_MAX 256        /* bytes of a line as ssh-keygen writes it, comment included */

/* "ssh-ed25519:BASE64" (the SSH wire blob: string "ssh-ed25519", string
 * key) or BASE64 of the 32 raw bytes (a NUL-terminated manifest argument);
 * false if it is neither. */
bool key_parse(const char *v, uint8_t key[32]);
/* "ssh-ed25519 BASE64 [comment]", as ssh-keygen writes it (len bytes, no
 * NUL needed); false if it is not that. */
bool key_parse_line(const char *s, size_t len, uint8_t key[32]);
/* The line key_parse_line reads back: "ssh-ed25519 BASE64". */
void key_line(const uint8_t key[32], char *out, size_t cap);
#endif
