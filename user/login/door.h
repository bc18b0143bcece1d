/* What login does with the name typed at its prompt (door.c), apart from
 * its I/O so that a host fuzz target builds it (tests/fuzz/cmdline). */
#ifndef LOGIN_DOOR_H
#define LOGIN_DOOR_H
#include <stddef.h>

enum login_door {
    DOOR_AGAIN,             /* nothing typed: ask again */
    DOOR_SETUP,             /* "setup": the first operator's password */
    DOOR_GUEST,             /* "guest": a guest session, no password */
    DOOR_PASSWORD,          /* any other name: ask its password */
};
/* The NUL-terminated name as read (at most cap bytes were stored). */
enum login_door login_door(const char *who, size_t cap);
#endif
