/* rkernel: reads kernel memory. No kernel page is user-accessible: killed. */
#include "rt/capos.h"

int main(void)
{
    return *(volatile int *)0xFFFF800000100000ull;
}
