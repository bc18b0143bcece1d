/*
 * libFuzzer target: the authorized-key parser of the accounts service
 * (user/accounts/keys.c), built for the host with Debian's libsodium. The
 * input is read both ways the service reads keys: as an AccountAdmin
 * addKey/removeKey line ("ssh-ed25519 BASE64 [comment]", its bytes as
 * they come) and as a manifest argument (NUL-terminated). Checked: a key
 * that parses prints, through key_line, as a line that parses back to the
 * same key, in both spellings.
 */
#include <stdlib.h>
#include <string.h>
#include "keys.h"

static void round_trip(const uint8_t key[32])
{
    char line[KEY_TEXT_MAX], arg[KEY_TEXT_MAX];
    uint8_t back[32];
    key_line(key, line, sizeof line);
    if (!key_parse_line(line, strlen(line), back) || memcmp(back, key, 32))
        abort();
    /* the manifest's spelling: the line's two fields joined by ':' */
    strcpy(arg, line);
    arg[strlen("ssh-ed25519")] = ':';
    if (!key_parse(arg, back) || memcmp(back, key, 32))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t key[32];
    char *line = malloc(size ? size : 1);          /* exactly the bytes: a read past them is an ASan error */
    memcpy(line, data, size);
    if (key_parse_line(line, size, key))
        round_trip(key);
    free(line);

    char *arg = malloc(size + 1);
    memcpy(arg, data, size);
    arg[size] = 0;
    if (key_parse(arg, key))
        round_trip(key);
    free(arg);
    return 0;
}
