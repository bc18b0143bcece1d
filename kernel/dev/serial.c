/*
 * COM1 (16550 UART): the kernel log and the Console capability's device.
 * Output is polled; input is polled from the timer tick into a small ring
 * (QEMU's UART applies back-pressure, so nothing is lost between polls).
 */
#include "serial.h"
#include "arch/x86_64/cpu.h"

#define COM1 0x3F8
#define RXBUF 1024

static uint8_t rx_buf[RXBUF];
static uint32_t rx_head, rx_tail;

void serial_init(void)
{
    outb(COM1 + 1, 0x00);   /* no interrupts */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 0x01);   /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0xC7);   /* FIFO on, cleared, 14-byte threshold */
    outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

void serial_putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        pause();
    outb(COM1, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}

bool serial_poll(void)
{
    bool got = false;
    while (inb(COM1 + 5) & 0x01) {
        uint8_t c = inb(COM1);
        if (rx_tail - rx_head < RXBUF)
            rx_buf[rx_tail++ % RXBUF] = c;
        got = true;
    }
    return got;
}

int serial_getc(void)
{
    if (rx_head == rx_tail)
        return -1;
    return rx_buf[rx_head++ % RXBUF];
}
