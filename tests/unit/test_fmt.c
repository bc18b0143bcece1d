/* Host tests of the bounded formatter (lib/fmt): every conversion, widths,
 * truncation at every buffer size, and the terminating NUL. */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include "fmt/fmt.h"

static int failures;
#define CHECK(fmt, want, ...) do { \
    char b[256]; int n = fmt_snprintf(b, sizeof b, fmt, __VA_ARGS__); \
    if (strcmp(b, want) || n != (int)strlen(want)) { \
        printf("FAIL %s:%d: fmt \"%s\" gave \"%s\" (%d), want \"%s\"\n", __FILE__, __LINE__, fmt, b, n, want); \
        failures++; } } while (0)

int main(void)
{
    CHECK("%d", "0", 0);
    CHECK("%d", "-42", -42);
    CHECK("%i|%u", "7|4294967295", 7, 4294967295u);
    CHECK("%ld", "-9223372036854775808", (long)INT64_MIN);
    CHECK("%lu", "18446744073709551615", (unsigned long)UINT64_MAX);
    CHECK("%x %X", "ff FF", 255, 255);
    CHECK("%016lx", "00000000deadbeef", 0xdeadbeefUL);
    CHECK("%08x", "0000abcd", 0xabcd);
    CHECK("%5d|%-5d|", "   42|42   |", 42, 42);
    CHECK("%05d", "-0042", -42);
    CHECK("%s", "hello", "hello");
    CHECK("%-8s|", "ab      |", "ab");
    CHECK("%8s|", "      ab|", "ab");
    CHECK("%.3s", "abc", "abcdef");
    CHECK("%*d", "   7", 4, 7);
    CHECK("%c%c", "ok", 'o', 'k');
    CHECK("%%", "%", 0);
    CHECK("%s", "(null)", (char *)0);
    CHECK("%o", "17", 15);
    CHECK("%zu", "123", (size_t)123);
    CHECK("%p", "0x0000000000001000", (void *)0x1000);

    /* truncation: never writes past size, always terminates, returns full length */
    const char *full = "0123456789";
    for (size_t size = 0; size <= 12; size++) {
        char b[16];
        memset(b, 'X', sizeof b);
        int n = fmt_snprintf(b, size, "%s", full);
        if (n != 10) { printf("FAIL truncation: size %zu returned %d\n", size, n); failures++; }
        if (size) {
            size_t k = size - 1 < 10 ? size - 1 : 10;
            if (memcmp(b, full, k) || b[k] != 0) { printf("FAIL truncation: size %zu content\n", size); failures++; }
        }
        for (size_t i = size; i < sizeof b; i++)
            if (b[i] != 'X') { printf("FAIL truncation: size %zu wrote byte %zu\n", size, i); failures++; break; }
    }
    if (failures)
        return 1;
    printf("unit/fmt: all checks passed\n");
    return 0;
}
