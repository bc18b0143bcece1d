/* lib/net host unit tests. */
#include "wire.h"

void basic_tests(void);
void tcp_tests(void);

int main(void)
{
    basic_tests();
    tcp_tests();
    printf("%d passed, %d failed\n", passes, failures);
    return failures != 0;
}
