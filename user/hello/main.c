/* hello: prints one line and exits with 7 (a value the tests look for). */
#include "rt/capos.h"

int main(void)
{
    printf("hello from pid %u\n", rt_pid);
    return 7;
}
