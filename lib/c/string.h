/* The few string and memory functions every freestanding part of capOS uses. */
#ifndef CAPOS_STRING_H
#define CAPOS_STRING_H
#include <stddef.h>

void  *memcpy(void *dst, const void *src, size_t n);
void  *memmove(void *dst, const void *src, size_t n);
void  *memset(void *dst, int c, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);
char  *strchr(const char *s, int c);
char  *strstr(const char *hay, const char *needle);
/* Copies at most size-1 bytes and always terminates (size > 0); returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
