/* fault: dereferences a null pointer. The kernel must kill it, and only it. */
#include "rt/capos.h"

int main(void)
{
    printf("fault: about to read address 0\n");
    volatile int *p = 0;
    return *p;
}
