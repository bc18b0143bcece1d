/* The one checked cursor for reading SSH wire data and the one checked writer
 * for building it (RFC 4251 5 data types), in the manner of OpenSSH's sshbuf.
 *
 * Reader: every read of peer bytes goes through a struct ssh_rd.  A read past
 * the end sets a sticky error, returns zero / an empty string and leaves the
 * cursor where it was; check rd_failed() or rd_done() once after a group of
 * reads.  Writer: every packet and reply is built with a struct ssh_wr over a
 * caller-owned buffer; it counts its own length, and a write that does not
 * fit sets a sticky error and writes nothing (callers never send a failed
 * writer's bytes).  The fields of both are private to ssh_buf.c. */
#ifndef CAPOS_SSH_BUF_H
#define CAPOS_SSH_BUF_H

#include <stddef.h>
#include <stdint.h>

struct ssh_rd { const uint8_t *p; size_t len, off; int err; };
struct ssh_wr { uint8_t *p; size_t cap, len; int err; };

void rd_init(struct ssh_rd *r, const void *p, size_t len);
uint8_t rd_u8(struct ssh_rd *r);
int rd_bool(struct ssh_rd *r);
uint32_t rd_u32(struct ssh_rd *r);
/* string: a uint32 length and that many bytes; *len = 0 and "" on error */
const uint8_t *rd_str(struct ssh_rd *r, size_t *len);
/* n bytes of a fixed-size field (e.g. the KEXINIT cookie); NULL on error */
const uint8_t *rd_bytes(struct ssh_rd *r, size_t n);
/* Next name of a name-list (RFC 4251 5) the cursor holds, commas excluded:
 * "" gives one empty name, "a," gives "a" and "".  NULL when none is left. */
const uint8_t *rd_name(struct ssh_rd *r, size_t *len);
/* A line ending in LF within the first max bytes: returns it without the LF
 * (and without a CR before it) and consumes it with its LF; NULL if no LF
 * is within reach yet (rd_left() says whether more input could bring one). */
const uint8_t *rd_line(struct ssh_rd *r, size_t max, size_t *len);
int rd_failed(const struct ssh_rd *r);
/* no error and every byte read */
int rd_done(const struct ssh_rd *r);
size_t rd_left(const struct ssh_rd *r);
/* the bytes read so far (what a signature over a message prefix covers) */
const uint8_t *rd_consumed(const struct ssh_rd *r, size_t *len);
/* the whole buffer the cursor reads, read or not (what a hash covers) */
const uint8_t *rd_all(const struct ssh_rd *r, size_t *len);

void wr_init(struct ssh_wr *w, void *p, size_t cap);
void wr_raw(struct ssh_wr *w, const void *d, size_t n);
void wr_u8(struct ssh_wr *w, uint8_t v);
void wr_bool(struct ssh_wr *w, int v);
void wr_u32(struct ssh_wr *w, uint32_t v);
void wr_str(struct ssh_wr *w, const void *d, size_t n);
void wr_cstr(struct ssh_wr *w, const char *s);
/* name-list from a NULL-terminated array of names */
void wr_namelist(struct ssh_wr *w, const char *const *names);
/* mpint (RFC 4251 5) of the unsigned big-endian number be[0..n) */
void wr_mpint(struct ssh_wr *w, const uint8_t *be, size_t n);
/* A string whose bytes are written by further writes: open returns a mark
 * for close, which fills in the length. */
size_t wr_str_open(struct ssh_wr *w);
void wr_str_close(struct ssh_wr *w, size_t mark);
/* room for n bytes the caller fills in place; NULL (and the error) if none */
uint8_t *wr_reserve(struct ssh_wr *w, size_t n);
int wr_failed(const struct ssh_wr *w);
size_t wr_len(const struct ssh_wr *w);
const uint8_t *wr_data(const struct ssh_wr *w);

/* Does the counted string s[0..n) equal the literal? */
int str_eq(const uint8_t *s, size_t n, const char *lit);

#endif
