/*
 * lib/store: a crash-safe log-structured key-value store over 512-byte
 * sectors. Freestanding and sans-IO: the caller gives the sector I/O as
 * callbacks (read, write, flush) and owns all memory (the store's state,
 * its table of live entries); nothing is allocated.
 *
 * On disk (lib/store/README.md): sector 0 is the superblock; from sector 1
 * the log in two regions, the one in use starting with a snapshot of the
 * state, then commits, each a run of whole sectors; when it is full the live
 * state is written as a snapshot to the other region (compaction). Every sector
 * of a commit starts and ends with an 8-byte tag derived from the store's
 * epoch, the commit's sequence number and the sector's index, so a torn or
 * missing sector is told apart from a damaged one; the commit's header and
 * its operations each carry a CRC-32C. A commit is acknowledged only after
 * its sectors are written and flushed. Recovery replays commits in sequence
 * order and stops at the first that is not whole: a torn tail (ignored and
 * scrubbed), or damage (a later commit follows, or a whole commit fails its
 * checksum): then the store refuses to open, with a message saying where.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SECTOR          512u
#define STORE_NS_MAX          15u     /* bytes of a namespace name */
#define STORE_KEY_MAX         64u
#define STORE_VALUE_MAX       1024u
#define STORE_COMMIT_SECTORS  16u     /* the largest commit, in sectors */
#define STORE_PAYLOAD         496u    /* bytes of a commit a sector carries (tags take 16) */
#define STORE_HEADER          40u     /* a commit's header, at the start of its payload */
#define STORE_TXN_BYTES       (STORE_COMMIT_SECTORS * STORE_PAYLOAD - STORE_HEADER)
#define STORE_OPS_MAX         64u
#define STORE_LOG_START       1u

enum store_err {
    STORE_OK = 0,
    STORE_E_IO = -1,          /* the device failed a read, write or flush */
    STORE_E_CORRUPT = -2,     /* the image is damaged: store_message() says where */
    STORE_E_FULL = -3,        /* the log has no room for this commit (nothing written) */
    STORE_E_TABLE_FULL = -4,  /* no room for another key in the caller's table */
    STORE_E_TOO_BIG = -5,     /* a name, key or value over its bound, or a commit over its size */
    STORE_E_NOT_FOUND = -6,
    STORE_E_FAILED = -7,      /* an earlier write failed: the store takes no more commits */
    STORE_E_ARG = -8,         /* a malformed call (empty key, empty namespace name) */
};

struct store_io {
    void *ctx;
    /* each returns 0 or nonzero for a device error; count <= max_sectors */
    int (*read)(void *ctx, uint64_t sector, uint32_t count, uint8_t *buf);
    int (*write)(void *ctx, uint64_t sector, uint32_t count, const uint8_t *buf);
    int (*flush)(void *ctx);
    uint32_t max_sectors;
    uint64_t sectors;            /* the disk's size */
};

struct store_entry {
    uint8_t used, nslen, klen;
    uint16_t vlen;
    char ns[STORE_NS_MAX + 1];
    uint8_t key[STORE_KEY_MAX];
    uint8_t val[STORE_VALUE_MAX];
};

struct store_report {
    uint64_t commits;            /* replayed at open */
    uint64_t tail;               /* the sector the next commit goes to */
    bool formatted;              /* open found a blank disk and formatted it */
    bool torn;                   /* open found (and scrubbed) a torn tail */
    bool interrupted;            /* open found (and ignored) a compaction cut short */
    uint64_t compactions;        /* since open */
};

/* A transaction: operations appended in order, applied all or none. */
struct store_txn {
    uint32_t len;
    uint16_t nops;
    int err;                     /* the first put/del error, returned by commit */
    uint8_t ops[STORE_TXN_BYTES];
};

struct store {
    const struct store_io *io;
    struct store_entry *tab;
    uint32_t cap, count;
    uint64_t sectors, epoch, seq, tail;
    uint64_t region_start, region_end, other_start, other_end;
    uint64_t max_seen;           /* above every commit number that may be on the disk */
    bool failed;
    struct store_report report;
    char msg[160];
    uint8_t buf[STORE_COMMIT_SECTORS * STORE_SECTOR];
    struct store_txn snap;       /* compaction's scratch */
};

/* Open the store on io: format a blank disk (sector 0 all zero) with `epoch`
 * (any nonzero number unlikely to repeat: the caller's randomness), else
 * recover: STORE_OK, STORE_E_CORRUPT (store_message says what and where),
 * STORE_E_IO or STORE_E_TABLE_FULL (the log holds more keys than `cap`). */
int store_open(struct store *s, const struct store_io *io, struct store_entry *tab, uint32_t cap, uint64_t epoch);
const char *store_message(const struct store *s);

void store_txn_init(struct store_txn *t);
void store_txn_put(struct store_txn *t, const char *ns, uint32_t nslen, const void *key, uint32_t klen,
                   const void *val, uint32_t vlen);
void store_txn_del(struct store_txn *t, const char *ns, uint32_t nslen, const void *key, uint32_t klen);
/* Write the transaction as one commit, flush, then apply it: STORE_OK once
 * durable. On any error nothing is applied (and nothing acknowledged). */
int store_commit(struct store *s, struct store_txn *t);

/* The value of key in ns: its entry, or NULL. */
const struct store_entry *store_get(const struct store *s, const char *ns, uint32_t nslen, const void *key,
                                    uint32_t klen);
/* The live entries of ns in table order: call with *cursor = 0, then again
 * while it answers non-NULL. */
const struct store_entry *store_next(const struct store *s, const char *ns, uint32_t nslen, uint32_t *cursor);

uint32_t store_crc32c(uint32_t crc, const void *p, size_t n);
#endif
