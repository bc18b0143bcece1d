/* wtext: writes to its own code. Text is mapped read-only (W^X): killed. */
#include "rt/capos.h"

int main(void)
{
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)main;
    code[0] = 0xC3;
    return 0;
}
