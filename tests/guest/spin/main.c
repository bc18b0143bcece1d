/* spin: never enters the kernel. Only the timer interrupt can take the CPU
 * back, so init making progress while this runs proves preemption. */
#include "rt/capos.h"

int main(void)
{
    for (volatile uint64_t i = 0;; i++)
        ;
}
