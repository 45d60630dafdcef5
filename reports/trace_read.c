/* Streaming trace reader: a line at a time into a fixed buffer, decoded by
 * jansson, copied into a flat struct trd_rec.
 *
 * Owns: nothing beyond the reader's line buffer.
 * Must never: allocate per record beyond jansson's transient DOM of one
 * line, or accept a record that would index past TRD_SERVERS_MAX. */
#include "reports/trace_read.h"

#include <jansson.h>
#include <string.h>

static const char *const kind_names[TRD_KIND_COUNT] = {
    [TRD_OTHER] = "?", [TRD_START] = "start", [TRD_FAULT] = "fault",
    [TRD_CRASH] = "crash", [TRD_RESTART] = "restart", [TRD_START_REFUSED] = "start-refused",
    [TRD_PAUSE] = "pause", [TRD_SKEW] = "skew", [TRD_DRIFT] = "drift",
    [TRD_PARTITION] = "partition", [TRD_BLOCK] = "block", [TRD_DROP] = "drop",
    [TRD_CLOG] = "clog", [TRD_HEAL] = "heal", [TRD_DISK_FULL_EXIT] = "disk-full-exit",
    [TRD_INTERNAL_ERROR] = "internal-error", [TRD_SEND] = "send", [TRD_RECV] = "recv",
    [TRD_CONN_BROKEN] = "conn-broken", [TRD_PROPOSE] = "propose",
    [TRD_C_SEND] = "c-send", [TRD_C_RECV] = "c-recv", [TRD_C_SESSION] = "c-session",
    [TRD_STARTED] = "STARTED", [TRD_LOG_TORN] = "LOG_TORN", [TRD_LOOKING] = "LOOKING",
    [TRD_ELECTED] = "ELECTED", [TRD_EPOCH_ACCEPTED] = "EPOCH_ACCEPTED",
    [TRD_EPOCH_CURRENT] = "EPOCH_CURRENT", [TRD_SYNC_SENT] = "SYNC_SENT",
    [TRD_SYNC_RECEIVED] = "SYNC_RECEIVED", [TRD_ESTABLISHED] = "ESTABLISHED",
    [TRD_UPTODATE] = "UPTODATE", [TRD_PROPOSED] = "PROPOSED", [TRD_COMMITTED] = "COMMITTED",
    [TRD_APPLIED] = "APPLIED", [TRD_SNAPSHOT] = "SNAPSHOT",
    [TRD_LEARNER_DROPPED] = "LEARNER_DROPPED", [TRD_STEP_DOWN] = "STEP_DOWN",
    [TRD_FOLLOWER_QUIT] = "FOLLOWER_QUIT", [TRD_PROTOCOL_ERROR] = "PROTOCOL_ERROR",
};

const char *trd_kind_name(enum trd_kind k)
{
    return (unsigned)k < TRD_KIND_COUNT ? kind_names[k] : "?";
}

static enum trd_kind kind_of(const char *s)
{
    for (int k = 1; k < TRD_KIND_COUNT; k++)
        if (!strcmp(kind_names[k], s))
            return (enum trd_kind)k;
    return TRD_OTHER;
}

struct msg_class_entry { const char *msg; enum trd_msg_class cls; };

static const struct msg_class_entry msg_classes[] = {
    {"NOTIFICATION", TRD_MC_ELECTION}, {"FOLLOWERINFO", TRD_MC_DISCOVERY},
    {"OBSERVERINFO", TRD_MC_DISCOVERY}, {"LEADERINFO", TRD_MC_DISCOVERY},
    {"ACKEPOCH", TRD_MC_DISCOVERY}, {"DIFF", TRD_MC_SYNC}, {"TRUNC", TRD_MC_SYNC},
    {"SNAP", TRD_MC_SYNC}, {"NEWLEADER", TRD_MC_SYNC}, {"UPTODATE", TRD_MC_SYNC},
    {"ACKNEWLEADER", TRD_MC_SYNC}, {"PROPOSAL", TRD_MC_BROADCAST}, {"ACK", TRD_MC_BROADCAST},
    {"COMMIT", TRD_MC_BROADCAST}, {"INFORM", TRD_MC_BROADCAST}, {"PING", TRD_MC_PING},
    {"REQUEST", TRD_MC_CLIENT}, {"REVALIDATE", TRD_MC_CLIENT},
};

enum trd_msg_class trd_msg_class_of(const char *msg)
{
    for (size_t i = 0; i < sizeof msg_classes / sizeof msg_classes[0]; i++)
        if (!strcmp(msg_classes[i].msg, msg))
            return msg_classes[i].cls;
    return TRD_MC_OTHER;
}

const char *trd_msg_class_name(enum trd_msg_class c)
{
    static const char *const names[TRD_MC_COUNT] = {"election", "discovery", "sync",
                                                    "broadcast", "ping", "client", "other"};
    return (unsigned)c < TRD_MC_COUNT ? names[c] : "other";
}

void trd_init(struct trd_reader *r, FILE *f, const char *name)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "trace");
}

static int64_t int_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_true(v))
        return 1;
    return 0;
}

static void str_field(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        snprintf(dst, cap, "%s", json_string_value(v));
}

/* The fields each kind carries, into the flat record. */
static void fill_fields(json_t *o, struct trd_rec *rec)
{
    switch (rec->kind) {
    case TRD_START:
        rec->a = int_field(o, "seed"), rec->b = int_field(o, "voters");
        rec->c = int_field(o, "observers"), rec->d = int_field(o, "tick_ms");
        break;
    case TRD_SEND: case TRD_RECV:
        rec->peer = (int)int_field(o, rec->kind == TRD_SEND ? "to" : "from");
        rec->seq = (uint64_t)int_field(o, "seq");
        rec->len = (uint32_t)int_field(o, "len");
        rec->lost = int_field(o, "lost") != 0;
        str_field(o, "msg", rec->msg, sizeof rec->msg);
        rec->msg_class = trd_msg_class_of(rec->msg);
        break;
    case TRD_CONN_BROKEN: case TRD_DROP:
        rec->peer = (int)int_field(o, "peer");
        break;
    case TRD_BLOCK:
        rec->peer = (int)int_field(o, "to");
        break;
    case TRD_CLOG:
        rec->peer = (int)int_field(o, "peer");
        rec->a = int_field(o, "extra_ms"), rec->b = int_field(o, "ms");
        break;
    case TRD_PAUSE: rec->a = int_field(o, "ms"); break;
    case TRD_SKEW: rec->a = int_field(o, "ns"); break;
    case TRD_DRIFT: rec->a = int_field(o, "ppm"); break;
    case TRD_CRASH:
        rec->a = int_field(o, "kept_bytes");
        str_field(o, "unsynced", rec->text, sizeof rec->text);
        break;
    case TRD_FAULT: case TRD_INTERNAL_ERROR: str_field(o, "what", rec->text, sizeof rec->text); break;
    case TRD_START_REFUSED: str_field(o, "error", rec->text, sizeof rec->text); break;
    case TRD_PROPOSE: str_field(o, "zxid", rec->text, sizeof rec->text); break;
    case TRD_C_SEND: case TRD_C_RECV: case TRD_C_SESSION:
        rec->client = (int)int_field(o, "client");
        rec->peer = (int)int_field(o, "server");
        rec->a = int_field(o, "xid"), rec->b = int_field(o, "err");
        rec->len = (uint32_t)int_field(o, "len");
        str_field(o, "op", rec->msg, sizeof rec->msg);
        str_field(o, rec->kind == TRD_C_RECV ? "what" : "state", rec->text, sizeof rec->text);
        str_field(o, "session", rec->session, sizeof rec->session);
        break;
    default:
        if (rec->kind >= TRD_STARTED) {
            rec->peer = (int)int_field(o, "peer");
            rec->a = int_field(o, "a"), rec->b = int_field(o, "b");
            str_field(o, "text", rec->text, sizeof rec->text);
        }
        break;
    }
}

static int fill_partition(json_t *o, struct trd_rec *rec, const char *where, char *err, size_t errlen)
{
    json_t *g = json_object_get(o, "group_of");
    if (!json_is_array(g) || json_array_size(g) > TRD_SERVERS_MAX) {
        snprintf(err, errlen, "%s: partition needs group_of, an array of at most %d groups",
                 where, TRD_SERVERS_MAX);
        return -1;
    }
    rec->n_group = (int)json_array_size(g);
    for (int i = 0; i < rec->n_group; i++)
        rec->group_of[i + 1] = (int)json_integer_value(json_array_get(g, (size_t)i));
    return 0;
}

static int decode(struct trd_reader *r, json_t *o, struct trd_rec *rec, char *err, size_t errlen)
{
    char where[192];
    snprintf(where, sizeof where, "%s:%llu:1", r->name, (unsigned long long)r->line);
    json_t *t = json_object_get(o, "t_ns"), *node = json_object_get(o, "node"),
           *kind = json_object_get(o, "kind");
    if (!json_is_integer(t) || !json_is_integer(node) || !json_is_string(kind)) {
        snprintf(err, errlen, "%s: a record needs integer t_ns and node and a string kind", where);
        return -1;
    }
    memset(rec, 0, sizeof *rec);
    rec->t_ns = (int64_t)json_integer_value(t);
    rec->node = (int)json_integer_value(node);
    if (rec->t_ns < 0 || rec->node == 0 || rec->node < -1 || rec->node > TRD_SERVERS_MAX) {
        snprintf(err, errlen, "%s: t_ns %lld or node %d out of range (nodes 1..%d or -1)", where,
                 (long long)rec->t_ns, rec->node, TRD_SERVERS_MAX);
        return -1;
    }
    snprintf(rec->kind_name, sizeof rec->kind_name, "%s", json_string_value(kind));
    rec->kind = kind_of(rec->kind_name);
    fill_fields(o, rec);
    if (rec->peer < 0 || rec->peer > TRD_SERVERS_MAX) {
        snprintf(err, errlen, "%s: peer %d out of range", where, rec->peer);
        return -1;
    }
    bool client_rec = rec->kind == TRD_C_SEND || rec->kind == TRD_C_RECV || rec->kind == TRD_C_SESSION;
    if (client_rec && (rec->client < 1 || rec->client > TRD_CLIENTS_MAX)) {
        snprintf(err, errlen, "%s: client %d out of range (1..%d)", where, rec->client, TRD_CLIENTS_MAX);
        return -1;
    }
    if (rec->kind == TRD_PARTITION)
        return fill_partition(o, rec, where, err, errlen);
    return 0;
}

/* One physical line into r->buf; 1, 0 at EOF, -1 when longer than the buffer. */
static int read_line(struct trd_reader *r, size_t *len)
{
    if (!fgets(r->buf, sizeof r->buf, r->f))
        return 0;
    r->line++;
    *len = strlen(r->buf);
    if (*len == sizeof r->buf - 1 && r->buf[*len - 1] != '\n') {
        int ch;
        while ((ch = fgetc(r->f)) != EOF && ch != '\n')
            ;
        return -1;
    }
    return 1;
}

int trd_next(struct trd_reader *r, struct trd_rec *rec, char *err, size_t errlen)
{
    for (;;) {
        size_t len = 0;
        int rl = read_line(r, &len);
        if (rl == 0)
            return 0;
        if (rl < 0) {
            snprintf(err, errlen, "%s:%llu:1: line longer than %d bytes", r->name,
                     (unsigned long long)r->line, TRD_LINE_MAX - 2);
            return -1;
        }
        size_t i = 0;
        while (i < len && (r->buf[i] == ' ' || r->buf[i] == '\t' || r->buf[i] == '\n' || r->buf[i] == '\r'))
            i++;
        if (i == len)
            continue;
        json_error_t je;
        json_t *o = json_loadb(r->buf, len, 0, &je);
        if (!o || !json_is_object(o)) {
            snprintf(err, errlen, "%s:%llu:%d: %s", r->name, (unsigned long long)r->line,
                     o ? 1 : je.column, o ? "a record must be a JSON object" : je.text);
            json_decref(o);
            return -1;
        }
        int rc = decode(r, o, rec, err, errlen);
        json_decref(o);
        return rc < 0 ? -1 : 1;
    }
}
