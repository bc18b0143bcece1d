/* xstack: jumps into its stack. Data is never executable (NX): killed. */
#include "rt/capos.h"

int main(void)
{
    volatile uint8_t buf[16] = { 0xC3 };   /* ret */
    void (*fn)(void) = (void (*)(void))(uintptr_t)buf;
    fn();
    return 0;
}
