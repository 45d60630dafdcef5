/* ZAB and FLE peer messages: the one wire encoding used by the simulator
 * (as opaque blobs) and by zabd (on TCP, inside its own length framing).
 * Owns encode/decode/describe. Decoding is bounds-checked: untrusted bytes
 * give an error, never a crash. Never decides protocol behaviour.
 *
 * Layout: u8 kind, then the kind's fields, big-endian; payload-carrying kinds
 * end with u32 len + bytes. A message must be consumed exactly (no trailer). */
#ifndef ZABLAB_CORE_ZAB_MSG_H
#define ZABLAB_CORE_ZAB_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/fle.h"

enum zab_msg_kind {
    ZAB_MSG_NOTIFICATION = 1, /* FLE: state u8, leader i32, zxid, round, peer_epoch */
    ZAB_MSG_FOLLOWERINFO = 2, /* F->L: epoch = acceptedEpoch, flag = 1 for an observer */
    ZAB_MSG_LEADERINFO = 3,   /* L->F: epoch = proposed new epoch */
    ZAB_MSG_ACKEPOCH = 4,     /* F->L: flag = epoch valid (0 = ZooKeeper's -1), epoch = currentEpoch, zxid = last zxid */
    ZAB_MSG_DIFF = 5,         /* L->F: zxid = leader's last zxid */
    ZAB_MSG_TRUNC = 6,        /* L->F: zxid = truncate the log after this zxid */
    ZAB_MSG_SNAP = 7,         /* L->F: zxid = snapshot zxid, data = state-machine snapshot */
    ZAB_MSG_PROPOSAL = 8,     /* L->F: zxid, data = txn */
    ZAB_MSG_ACK = 9,          /* F->L: zxid (epoch<<32 acknowledges NEWLEADER) */
    ZAB_MSG_COMMIT = 10,      /* L->F: zxid */
    ZAB_MSG_NEWLEADER = 11,   /* L->F: zxid = epoch<<32 */
    ZAB_MSG_UPTODATE = 12,    /* L->F: zxid = leader's last committed zxid */
    ZAB_MSG_PING = 13,        /* both ways: zxid = sender's last committed zxid */
    ZAB_MSG_INFORM = 14,      /* L->observer: committed zxid, data = txn */
};
#define ZAB_MSG_KIND_MIN 1
#define ZAB_MSG_KIND_MAX 14
/* Largest data section accepted on decode (snapshots included). */
#define ZAB_MSG_DATA_MAX (64u << 20)

struct zab_msg {
    uint8_t kind;                   /* enum zab_msg_kind */
    uint8_t flag;
    uint64_t zxid;
    uint64_t epoch;
    struct fle_notification note;   /* NOTIFICATION only */
    const uint8_t *data;            /* PROPOSAL/INFORM/SNAP; points into the decoded buffer */
    uint32_t data_len;
};

/* Exact encoded size of m. */
size_t zab_msg_size(const struct zab_msg *m);
/* Encodes m into buf; returns bytes written, or 0 if cap is too small. */
size_t zab_msg_encode(const struct zab_msg *m, uint8_t *buf, size_t cap);
/* Decodes; 0 on success, -1 on malformed bytes with a reason in err. */
int zab_msg_decode(const uint8_t *buf, size_t len, struct zab_msg *m, char *err, size_t errlen);

const char *zab_msg_kind_str(int kind);
/* Kind name of an encoded message, "MALFORMED" if it does not decode. */
const char *zab_msg_kind_name(const uint8_t *msg, size_t len);
/* One-line description for traces, e.g. "PROPOSAL 0x100000003 (12 bytes)".
 * Always NUL-terminates buf (if cap > 0); returns buf. */
char *zab_msg_describe(const uint8_t *msg, size_t len, char *buf, size_t cap);

#endif
