/*
 * Message framing: the segment table in front of a stream message.
 *
 *   u32 segment count - 1
 *   u32 size of each segment in words
 *   u32 padding if needed so the table is a whole number of words
 *   the segments, one after the other
 */
#include "capnp.h"
#include "wire.h"

static void msg_clear(capnp_msg *m)
{
    m->nsegs = 0;
    m->traversal_left = CAPNP_DEFAULT_TRAVERSAL_WORDS;
    m->nesting = CAPNP_DEFAULT_NESTING;
    m->err = CAPNP_OK;
    m->caps = 0;
    m->ncaps = 0;
}

int capnp_msg_init(capnp_msg *m, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    msg_clear(m);
    m->err = CAPNP_ERR_SEGMENT_TABLE; /* until the table checks out */
    if (len < 8 || (len & 7) != 0)
        return m->err;
    uint32_t n = capnp_ld32(p) + 1; /* wraps to 0 on 0xffffffff */
    if (n == 0 || n > CAPNP_MAX_SEGMENTS)
        return m->err;
    /* table words: (4 + 4n) bytes rounded up to 8 */
    size_t table = ((size_t)4 + 4 * (size_t)n + 7) & ~(size_t)7;
    if (table > len)
        return m->err;
    size_t at = table;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t w = capnp_ld32(p + 4 + 4 * i);
        if ((len - at) / 8 < w)
            return m->err;
        m->seg[i] = p + at;
        m->seg_words[i] = w;
        at += (size_t)w * 8;
    }
    /* Trailing bytes would mean a different framing than the sender's. */
    if (at != len)
        return m->err;
    m->nsegs = n;
    m->err = CAPNP_OK;
    return CAPNP_OK;
}

int capnp_msg_init_segments(capnp_msg *m, const void *const *segs,
                            const uint32_t *words, uint32_t nsegs)
{
    msg_clear(m);
    if (nsegs == 0 || nsegs > CAPNP_MAX_SEGMENTS) {
        m->err = CAPNP_ERR_SEGMENT_TABLE;
        return m->err;
    }
    for (uint32_t i = 0; i < nsegs; i++) {
        if (words[i] > 0x1fffffffu) { /* larger than a pointer can reach */
            m->err = CAPNP_ERR_SEGMENT_TABLE;
            return m->err;
        }
        m->seg[i] = segs[i];
        m->seg_words[i] = words[i];
    }
    m->nsegs = nsegs;
    return CAPNP_OK;
}

void capnp_msg_set_limits(capnp_msg *m, uint64_t traversal_words,
                          uint32_t nesting)
{
    m->traversal_left = traversal_words;
    m->nesting = nesting;
}

void capnp_msg_set_caps(capnp_msg *m, const uint32_t *caps, uint32_t ncaps)
{
    m->caps = caps;
    m->ncaps = ncaps;
}
