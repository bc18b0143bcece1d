/* login's reading of the name typed at its prompt (door.h). */
#include "door.h"
#include "c/string.h"

enum login_door login_door(const char *who, size_t cap)
{
    if (!cap || !who[0])
        return DOOR_AGAIN;
    if (!strcmp(who, "setup"))
        return DOOR_SETUP;
    if (!strcmp(who, "guest"))
        return DOOR_GUEST;
    return DOOR_PASSWORD;
}
