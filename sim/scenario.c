/* The scenario language: tokenizer, parser, validation and canonical printer.
 *
 * Owns: turning scenario text into a `struct scenario` and back, and every
 * error message a user sees for a bad file ("file:line:col: message").
 * Must never: abort, hang or read past `len` on any input; allocate beyond
 * the one file buffer of scn_parse_file; interpret latency specs or bug
 * names (other modules own those).
 *
 * Parsing is two passes over the lines. Pass 1 tokenizes every line (so
 * lexical errors come in file order), counts statements and reads `cluster`
 * and `run`; pass 2 reads every other statement. That way server ids and
 * `at` times are checked with their exact column wherever `cluster` and
 * `run` appear in the file. A last step checks what spans statements
 * (`after heal` needs a heal, `lock-exclusive` needs a lock recipe, and
 * likewise queue-exact, config-converges and leader-unique). */
#include "sim/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- names */

static const char *const action_names[SCN_ACT_COUNT_] = {
    [SCN_ACT_CRASH] = "crash", [SCN_ACT_CRASH_AT_POINT] = "crash",
    [SCN_ACT_RESTART] = "restart", [SCN_ACT_PARTITION] = "partition",
    [SCN_ACT_ONE_WAY] = "partition", [SCN_ACT_ISOLATE] = "isolate",
    [SCN_ACT_HEAL] = "heal", [SCN_ACT_CLOG] = "clog", [SCN_ACT_DROP] = "drop",
    [SCN_ACT_PAUSE] = "pause", [SCN_ACT_SKEW] = "skew", [SCN_ACT_DRIFT] = "drift",
    [SCN_ACT_TORN_WRITE] = "torn-write", [SCN_ACT_SLOW_DISK] = "slow-disk",
    [SCN_ACT_DISK_FULL] = "disk-full", [SCN_ACT_HOLD] = "hold",
    [SCN_ACT_RELEASE] = "release",
};

static const char *const msg_names[SCN_MSG_COUNT_] = {
    "ANY", "VOTE", "REQUEST", "PROPOSAL", "ACK", "COMMIT", "PING", "REVALIDATE", "SYNC",
    "INFORM", "NEWLEADER", "FOLLOWERINFO", "UPTODATE", "DIFF", "TRUNC", "SNAP",
    "OBSERVERINFO", "LEADERINFO", "ACKEPOCH",
};

static const char *const point_names[SCN_POINT_COUNT_] = {
    [SCN_POINT_AFTER_VOTE_SENT] = "after-vote-sent",
    [SCN_POINT_AFTER_LEADERINFO_RECEIVED] = "after-leaderinfo-received",
    [SCN_POINT_AFTER_ACCEPTED_EPOCH_PERSISTED] = "after-accepted-epoch-persisted",
    [SCN_POINT_AFTER_ACKEPOCH_SENT] = "after-ackepoch-sent",
    [SCN_POINT_AFTER_EPOCH_QUORUM] = "after-epoch-quorum",
    [SCN_POINT_AFTER_SYNC_SENT] = "after-sync-sent",
    [SCN_POINT_AFTER_DIFF_RECEIVED] = "after-diff-received",
    [SCN_POINT_AFTER_TRUNC_RECEIVED] = "after-trunc-received",
    [SCN_POINT_AFTER_SNAP_RECEIVED] = "after-snap-received",
    [SCN_POINT_AFTER_NEWLEADER_RECEIVED] = "after-newleader-received",
    [SCN_POINT_AFTER_CURRENT_EPOCH_PERSISTED] = "after-current-epoch-persisted",
    [SCN_POINT_AFTER_NEWLEADER_ACK_SENT] = "after-newleader-ack-sent",
    [SCN_POINT_AFTER_UPTODATE_RECEIVED] = "after-uptodate-received",
    [SCN_POINT_AFTER_PROPOSAL_SENT] = "after-proposal-sent",
    [SCN_POINT_AFTER_PROPOSAL_RECEIVED] = "after-proposal-received",
    [SCN_POINT_AFTER_FSYNC_BEFORE_ACK] = "after-fsync-before-ack",
    [SCN_POINT_AFTER_ACK_SENT] = "after-ack-sent",
    [SCN_POINT_AFTER_COMMIT_QUORUM] = "after-commit-quorum",
    [SCN_POINT_AFTER_COMMIT_SENT] = "after-commit-sent",
    [SCN_POINT_AFTER_COMMIT_RECEIVED] = "after-commit-received",
    [SCN_POINT_DURING_SNAPSHOT_WRITE] = "during-snapshot-write",
};

static const char *const op_names[SCN_OP_COUNT_] = {
    "create", "set", "get", "delete", "cas", "multi", "sync", "exists", "children",
};

static const char *const recipe_names[SCN_RECIPE_COUNT_] = {
    "lock", "queue", "config-watch", "barrier", "leader-election",
};

static const char *const expect_names[SCN_EXPECT_COUNT_] = {
    "safety", "linearizable", "zk-consistency", "lock-exclusive", "no-lost-writes",
    "leader", "progress", "violation", "queue-exact", "config-converges", "leader-unique",
    "barrier-sync",
};

/* The recipe each recipe expectation judges (-1: none needed). */
static int expect_recipe(enum scn_expect_kind k)
{
    switch (k) {
    case SCN_EXPECT_LOCK_EXCLUSIVE: return SCN_RECIPE_LOCK;
    case SCN_EXPECT_QUEUE_EXACT: return SCN_RECIPE_QUEUE;
    case SCN_EXPECT_CONFIG_CONVERGES: return SCN_RECIPE_CONFIG_WATCH;
    case SCN_EXPECT_LEADER_UNIQUE: return SCN_RECIPE_LEADER_ELECTION;
    case SCN_EXPECT_BARRIER_SYNC: return SCN_RECIPE_BARRIER;
    default: return -1;
    }
}

static const char *const target_words[] = {
    "leader", "follower", "followers", "a", "minority", "majority", "random", "all",
    "lock-holder",
};

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *name_or_q(const char *const *tab, int n, int i)
{
    return (i >= 0 && i < n && tab[i]) ? tab[i] : "?";
}

const char *scn_action_name(enum scn_action a)
{
    return name_or_q(action_names, SCN_ACT_COUNT_, (int)a);
}
const char *scn_msg_kind_name(enum scn_msg_kind k)
{
    return name_or_q(msg_names, SCN_MSG_COUNT_, (int)k);
}
const char *scn_crash_point_name(enum scn_crash_point p)
{
    return name_or_q(point_names, SCN_POINT_COUNT_, (int)p);
}
const char *scn_op_name(enum scn_op op)
{
    return name_or_q(op_names, SCN_OP_COUNT_, (int)op);
}
const char *scn_recipe_name(enum scn_recipe_kind k)
{
    return name_or_q(recipe_names, SCN_RECIPE_COUNT_, (int)k);
}
const char *scn_expect_name(enum scn_expect_kind k)
{
    return name_or_q(expect_names, SCN_EXPECT_COUNT_, (int)k);
}

/* ------------------------------------------------------------ tokenizer */

struct scn_tok {
    const char *s;
    int len;
    int col;
};

/* Settings that may appear once; the parser remembers where. */
enum scn_once {
    ONCE_CLUSTER, ONCE_RUN, ONCE_TICK, ONCE_INIT_LIMIT, ONCE_SYNC_LIMIT, ONCE_SEED,
    ONCE_NET_LATENCY, ONCE_NET_LOSS, ONCE_NET_BROKEN, ONCE_DISK_FSYNC, ONCE_DISK_WRITE,
    ONCE_DISK_TORN, ONCE_DISK_LOST, ONCE_CLIENTS, ONCE_WORKLOAD, ONCE_KEYS, ONCE_RATE,
    ONCE_SESSION_TIMEOUT,
    ONCE_COUNT_
};

struct scn_parser {
    const char *filename;
    struct scenario *out;
    char *err;
    size_t errlen;
    int pass;          /* 1 or 2 */
    int line;          /* current line, 1-based */
    struct scn_tok tok[SCN_LINE_TOKENS_MAX];
    int ntok;
    int i;             /* next token */
    int once_line[ONCE_COUNT_];
};

static int fail_at(struct scn_parser *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct scn_parser *p, int line, int col, const char *fmt, ...)
{
    if (p->errlen == 0)
        return -1;
    /* line 0: the file as a whole (cannot open, read error) */
    int n = line > 0 ? snprintf(p->err, p->errlen, "%s:%d:%d: ", p->filename, line, col)
                     : snprintf(p->err, p->errlen, "%s: ", p->filename);
    if (n < 0 || (size_t)n >= p->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

#define FAIL(p, col, ...) fail_at((p), (p)->line, (col), __VA_ARGS__)

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool is_punct(unsigned char c)
{
    return c == '{' || c == '}' || c == ',' || c == '=';
}

static bool is_arrow(const char *s, int i, int n)
{
    return i + 1 < n && s[i] == '-' && s[i + 1] == '>';
}

static int push_tok(struct scn_parser *p, const char *s, int len, int col)
{
    if (p->ntok == SCN_LINE_TOKENS_MAX)
        return FAIL(p, col, "more than %d tokens on one line", SCN_LINE_TOKENS_MAX);
    p->tok[p->ntok++] = (struct scn_tok){s, len, col};
    return 0;
}

/* Splits one line (without its newline) into tokens; `#` starts a comment.
 * Words end at blanks, at `{ } , = #` and at `->`, which are tokens. */
static int tokenize(struct scn_parser *p, const char *s, int n)
{
    p->ntok = 0;
    p->i = 0;
    int i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '#')
            break;
        if (is_space(c)) {
            i++;
            continue;
        }
        if (c < 0x20 || c >= 0x7f)
            return FAIL(p, i + 1, "unexpected byte 0x%02x (statements are ASCII)", c);
        int len = 1;
        if (is_arrow(s, i, n)) {
            len = 2;
        } else if (!is_punct(c)) {
            while (i + len < n) {
                unsigned char d = (unsigned char)s[i + len];
                if (is_space(d) || is_punct(d) || d == '#' || d < 0x20 || d >= 0x7f ||
                    is_arrow(s, i + len, n))
                    break;
                len++;
            }
        }
        if (push_tok(p, s + i, len, i + 1) != 0)
            return -1;
        i += len;
    }
    return 0;
}

/* ------------------------------------------------------- token helpers */

static bool tok_is(const struct scn_tok *t, const char *word)
{
    size_t n = strlen(word);
    return t && (size_t)t->len == n && memcmp(t->s, word, n) == 0;
}

static const struct scn_tok *peek(struct scn_parser *p)
{
    return p->i < p->ntok ? &p->tok[p->i] : NULL;
}

/* Column just after the last token: where a missing token would go. */
static int end_col(const struct scn_parser *p)
{
    if (p->ntok == 0)
        return 1;
    const struct scn_tok *t = &p->tok[p->ntok - 1];
    return t->col + t->len;
}

/* Shown in messages: at most 32 bytes of a token. */
#define TOKF "%.*s"
#define TOKA(t) ((t)->len > 32 ? 32 : (t)->len), (t)->s

/* Takes the next token, or fails with "expected WHAT". */
static const struct scn_tok *need(struct scn_parser *p, const char *what)
{
    const struct scn_tok *t = peek(p);
    if (!t) {
        FAIL(p, end_col(p), "expected %s at the end of the line", what);
        return NULL;
    }
    p->i++;
    return t;
}

static int need_word(struct scn_parser *p, const char *word)
{
    const struct scn_tok *t = peek(p);
    if (!t)
        return FAIL(p, end_col(p), "expected '%s' at the end of the line", word);
    if (!tok_is(t, word))
        return FAIL(p, t->col, "expected '%s', got '" TOKF "'", word, TOKA(t));
    p->i++;
    return 0;
}

static int expect_end(struct scn_parser *p)
{
    const struct scn_tok *t = peek(p);
    if (!t)
        return 0;
    if (tok_is(t, "}"))
        return FAIL(p, t->col, "unmatched '}'");
    return FAIL(p, t->col, "unexpected '" TOKF "' after the end of the statement", TOKA(t));
}

/* Edit distance ignoring case, for "did you mean"; words longer than 32
 * bytes never match. */
static int edit_distance(const char *a, int na, const char *b)
{
    int nb = (int)strlen(b);
    if (na > 32 || nb > 32)
        return 99;
    int row[33];
    for (int j = 0; j <= nb; j++)
        row[j] = j;
    for (int i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= nb; j++) {
            int up = row[j];
            int cost = diag + (tolower((unsigned char)a[i - 1]) !=
                               tolower((unsigned char)b[j - 1]));
            int best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = cost < best ? cost : best;
            diag = up;
        }
    }
    return row[nb];
}

/* The closest name within 2 edits (and closer than the word's length); a
 * word of 3+ bytes that starts a name (an abbreviation) counts as 1 edit. */
static const char *suggest(const struct scn_tok *t, const char *const *names, int n)
{
    const char *best = NULL;
    int best_d = 3;
    for (int i = 0; i < n; i++) {
        if (!names[i])
            continue;
        int d = edit_distance(t->s, t->len, names[i]);
        if (d > 1 && t->len >= 3 && strncasecmp(t->s, names[i], (size_t)t->len) == 0)
            d = 1;
        if (d < best_d && d < t->len) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

static int fail_unknown(struct scn_parser *p, const struct scn_tok *t, const char *what,
                        const char *const *names, int n)
{
    const char *s = suggest(t, names, n);
    if (s)
        return FAIL(p, t->col, "unknown %s '" TOKF "' (did you mean '%s'?)", what, TOKA(t), s);
    return FAIL(p, t->col, "unknown %s '" TOKF "'", what, TOKA(t));
}

/* Index of the token in names[], case-insensitive when `any_case`; -1 if absent. */
static int lookup(const struct scn_tok *t, const char *const *names, int n, bool any_case)
{
    for (int i = 0; i < n; i++) {
        if (!names[i] || (size_t)t->len != strlen(names[i]))
            continue;
        if (any_case ? strncasecmp(t->s, names[i], (size_t)t->len) == 0
                     : memcmp(t->s, names[i], (size_t)t->len) == 0)
            return i;
    }
    return -1;
}

static int once(struct scn_parser *p, enum scn_once which, const struct scn_tok *t,
                const char *what)
{
    if (p->once_line[which])
        return FAIL(p, t->col, "duplicate '%s' (first at line %d)", what, p->once_line[which]);
    p->once_line[which] = p->line;
    return 0;
}

/* -------------------------------------------------------------- numbers */

/* Reads the leading decimal digits of t from *pos into *v. False when there
 * is no digit or the value overflows (the digits are consumed either way). */
static bool read_digits(const struct scn_tok *t, int *pos, uint64_t *v, int *ndigits)
{
    uint64_t x = 0;
    bool overflow = false;
    int i = *pos;
    while (i < t->len && t->s[i] >= '0' && t->s[i] <= '9') {
        unsigned d = (unsigned)(t->s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            x = x * 10 + d;
        i++;
    }
    *ndigits = i - *pos;
    *pos = i;
    *v = x;
    return *ndigits > 0 && !overflow;
}

/* An unsigned integer token in [min, max]. */
static int parse_uint(struct scn_parser *p, const struct scn_tok *t, uint64_t min, uint64_t max,
                      const char *what, uint64_t *v)
{
    int pos = 0, nd = 0;
    bool ok = read_digits(t, &pos, v, &nd);
    if (nd == 0 || pos != t->len)
        return FAIL(p, t->col, "expected %s (a whole number), got '" TOKF "'", what, TOKA(t));
    if (!ok || *v < min || *v > max)
        return FAIL(p, t->col, "%s '" TOKF "' is out of range %llu..%llu", what, TOKA(t),
                    (unsigned long long)min, (unsigned long long)max);
    return 0;
}

static int next_uint(struct scn_parser *p, uint64_t min, uint64_t max, const char *what,
                     uint64_t *v)
{
    const struct scn_tok *t = need(p, what);
    return t ? parse_uint(p, t, min, max, what, v) : -1;
}

static int next_int(struct scn_parser *p, int min, int max, const char *what, int *v)
{
    uint64_t x;
    if (next_uint(p, (uint64_t)min, (uint64_t)max, what, &x) != 0)
        return -1;
    *v = (int)x;
    return 0;
}

struct scn_unit {
    const char *name;
    uint64_t ns;
};

static const struct scn_unit time_units[] = {
    {"m", 60000000000ull}, {"s", 1000000000ull}, {"ms", 1000000ull}, {"us", 1000ull},
    {"ns", 1ull},
};

static uint64_t pow10u(int n)
{
    uint64_t x = 1;
    while (n-- > 0)
        x *= 10;
    return x;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* A duration token starting at byte `from` of t: digits[.digits]unit. */
static int parse_duration_at(struct scn_parser *p, const struct scn_tok *t, int from,
                             uint64_t *ns)
{
    int pos = from, nd = 0, nf = 0;
    uint64_t whole = 0, frac = 0;
    bool ok = read_digits(t, &pos, &whole, &nd);
    if (nd == 0)
        return FAIL(p, t->col, "expected a duration like 200ms, got '" TOKF "'", TOKA(t));
    if (!ok)
        return FAIL(p, t->col, "duration '" TOKF "' is too large", TOKA(t));
    if (pos < t->len && t->s[pos] == '.') {
        pos++;
        if (!read_digits(t, &pos, &frac, &nf) || nf > 12)
            return FAIL(p, t->col, "bad decimal in duration '" TOKF "'", TOKA(t));
    }
    struct scn_tok unit = {t->s + pos, t->len - pos, t->col + pos};
    if (unit.len == 0)
        return FAIL(p, t->col, "duration '" TOKF "' needs a unit (ns, us, ms, s or m)", TOKA(t));
    const struct scn_unit *u = NULL;
    for (int i = 0; i < COUNT_OF(time_units); i++)
        if (tok_is(&unit, time_units[i].name))
            u = &time_units[i];
    if (!u)
        return FAIL(p, unit.col, "unknown time unit '" TOKF "' (use ns, us, ms, s or m)",
                    TOKA(&unit));
    /* frac/10^nf * unit must be whole nanoseconds; reduce to avoid overflow. */
    uint64_t den = pow10u(nf), g = gcd_u64(u->ns, den);
    if (frac % (den / g) != 0)
        return FAIL(p, t->col, "duration '" TOKF "' is not a whole number of nanoseconds",
                    TOKA(t));
    uint64_t frac_ns = frac / (den / g) * (u->ns / g);
    if (whole > (UINT64_MAX - frac_ns) / u->ns)
        return FAIL(p, t->col, "duration '" TOKF "' is too large", TOKA(t));
    *ns = whole * u->ns + frac_ns;
    return 0;
}

static int next_duration(struct scn_parser *p, const char *what, uint64_t *ns)
{
    const struct scn_tok *t = need(p, what);
    return t ? parse_duration_at(p, t, 0, ns) : -1;
}

static int next_positive_duration(struct scn_parser *p, const char *what, uint64_t *ns)
{
    const struct scn_tok *t = need(p, what);
    if (!t || parse_duration_at(p, t, 0, ns) != 0)
        return -1;
    if (*ns == 0)
        return FAIL(p, t->col, "%s must be longer than 0", what);
    return 0;
}

/* A probability "0", "1", "0.001" (at most 9 decimals) in parts per billion. */
static int next_probability(struct scn_parser *p, const char *what, uint32_t *ppb)
{
    const struct scn_tok *t = need(p, what);
    if (!t)
        return -1;
    int pos = 0, nd = 0, nf = 0;
    uint64_t whole = 0, frac = 0;
    if (!read_digits(t, &pos, &whole, &nd))
        return FAIL(p, t->col, "expected %s (a probability like 0.01), got '" TOKF "'", what,
                    TOKA(t));
    if (pos < t->len && t->s[pos] == '.') {
        pos++;
        if (!read_digits(t, &pos, &frac, &nf))
            return FAIL(p, t->col, "bad probability '" TOKF "'", TOKA(t));
        if (nf > 9)
            return FAIL(p, t->col, "probability '" TOKF "' has more than 9 decimals", TOKA(t));
    }
    if (pos != t->len)
        return FAIL(p, t->col, "bad probability '" TOKF "'", TOKA(t));
    uint64_t v = frac * pow10u(9 - nf);
    if (whole > 1 || (whole == 1 && v > 0))
        return FAIL(p, t->col, "probability '" TOKF "' is above 1", TOKA(t));
    *ppb = (uint32_t)(whole * SCN_PPB_ONE + v);
    return 0;
}

/* A sign ('+' or '-', optional for positive) then the rest parsed by caller. */
static int sign_of(const struct scn_tok *t, int *from)
{
    *from = 0;
    if (t->len > 0 && (t->s[0] == '+' || t->s[0] == '-')) {
        *from = 1;
        return t->s[0] == '-' ? -1 : 1;
    }
    return 1;
}

static int next_signed_duration(struct scn_parser *p, const char *what, int64_t *ns)
{
    const struct scn_tok *t = need(p, what);
    if (!t)
        return -1;
    int from;
    int sign = sign_of(t, &from);
    uint64_t v;
    if (parse_duration_at(p, t, from, &v) != 0)
        return -1;
    if (v > (uint64_t)INT64_MAX)
        return FAIL(p, t->col, "duration '" TOKF "' is too large", TOKA(t));
    *ns = sign * (int64_t)v;
    return 0;
}

#define SCN_DRIFT_PPM_MAX 100000

static int next_drift(struct scn_parser *p, int64_t *ppm)
{
    const struct scn_tok *t = need(p, "a clock drift like +100ppm");
    if (!t)
        return -1;
    int from, nd = 0;
    int sign = sign_of(t, &from);
    uint64_t v = 0;
    int pos = from;
    bool ok = read_digits(t, &pos, &v, &nd);
    struct scn_tok rest = {t->s + pos, t->len - pos, t->col + pos};
    if (nd == 0 || !tok_is(&rest, "ppm"))
        return FAIL(p, t->col, "expected a clock drift like +100ppm, got '" TOKF "'", TOKA(t));
    if (!ok || v > SCN_DRIFT_PPM_MAX)
        return FAIL(p, t->col, "drift '" TOKF "' is out of range -%d..+%dppm", TOKA(t),
                    SCN_DRIFT_PPM_MAX, SCN_DRIFT_PPM_MAX);
    *ppm = sign * (int64_t)v;
    return 0;
}

/* ------------------------------------------------------ ids and targets */

static int server_total(const struct scn_parser *p)
{
    return p->out->voters + p->out->observers;
}

/* A server id in bytes [from, from+len) of t: 1..voters+observers. */
static int parse_id_span(struct scn_parser *p, const struct scn_tok *t, int from, int len,
                         int *id)
{
    struct scn_tok s = {t->s + from, len, t->col + from};
    uint64_t v;
    int pos = 0, nd = 0;
    bool ok = read_digits(&s, &pos, &v, &nd);
    if (nd == 0 || pos != s.len)
        return FAIL(p, s.col, "expected a server id, got '" TOKF "'", TOKA(&s));
    int total = server_total(p);
    if (!ok || v < 1 || v > (uint64_t)total)
        return FAIL(p, s.col, "server " TOKF " is out of range 1..%d (cluster voters %d "
                    "observers %d)", TOKA(&s), total, p->out->voters, p->out->observers);
    *id = (int)v;
    return 0;
}

static int next_id(struct scn_parser *p, int *id)
{
    const struct scn_tok *t = need(p, "a server id");
    return t ? parse_id_span(p, t, 0, t->len, id) : -1;
}

/* A link "A-B" (one token): two different ids, returned with a < b. */
static int next_link(struct scn_parser *p, int *a, int *b)
{
    const struct scn_tok *t = need(p, "a link like 1-3");
    if (!t)
        return -1;
    const char *dash = memchr(t->s, '-', (size_t)t->len);
    if (!dash || dash == t->s || dash == t->s + t->len - 1)
        return FAIL(p, t->col, "expected a link like 1-3, got '" TOKF "'", TOKA(t));
    int cut = (int)(dash - t->s);
    if (parse_id_span(p, t, 0, cut, a) != 0 ||
        parse_id_span(p, t, cut + 1, t->len - cut - 1, b) != 0)
        return -1;
    if (*a == *b)
        return FAIL(p, t->col, "link " TOKF " joins a server to itself", TOKA(t));
    if (*a > *b) {
        int x = *a;
        *a = *b;
        *b = x;
    }
    return 0;
}

/* Ids separated by commas: "1,2,5". Stops before the first non-id token. */
static int parse_id_list(struct scn_parser *p, uint32_t *mask)
{
    *mask = 0;
    for (;;) {
        const struct scn_tok *t = peek(p);
        int id;
        if (next_id(p, &id) != 0)
            return -1;
        if (*mask & (1u << id))
            return FAIL(p, t->col, "server %d is listed twice", id);
        *mask |= 1u << id;
        if (!tok_is(peek(p), ","))
            return 0;
        p->i++;
    }
}

static int parse_symbolic_target(struct scn_parser *p, const struct scn_tok *t,
                                 struct scn_target *tg)
{
    int voters = p->out->voters;
    p->i++;
    if (tok_is(t, "leader")) {
        tg->kind = SCN_TGT_LEADER;
    } else if (tok_is(t, "follower")) {
        tg->kind = SCN_TGT_FOLLOWER;
    } else if (tok_is(t, "a")) {
        if (need_word(p, "follower") != 0)
            return -1;
        tg->kind = SCN_TGT_FOLLOWER;
    } else if (tok_is(t, "followers")) {
        tg->kind = SCN_TGT_FOLLOWERS;
    } else if (tok_is(t, "minority") || tok_is(t, "majority")) {
        tg->kind = tok_is(t, "minority") ? SCN_TGT_MINORITY : SCN_TGT_MAJORITY;
        if (tg->kind == SCN_TGT_MINORITY && voters < 3)
            return FAIL(p, t->col, "a minority of %d voter%s is empty", voters,
                        voters == 1 ? "" : "s");
    } else if (tok_is(t, "random")) {
        uint64_t n;
        if (next_uint(p, 1, (uint64_t)server_total(p), "the number of servers", &n) != 0)
            return -1;
        tg->kind = SCN_TGT_RANDOM;
        tg->count = (uint32_t)n;
    } else if (tok_is(t, "all")) {
        tg->kind = SCN_TGT_ALL;
    } else if (tok_is(t, "lock-holder")) {
        tg->kind = SCN_TGT_LOCK_HOLDER;   /* a client; check_targets limits its use */
    } else {
        p->i--;
        const char *s = suggest(t, target_words, COUNT_OF(target_words));
        return FAIL(p, t->col, "expected a server target (ids like 1,2, leader, follower, "
                    "followers, minority, majority, random N, all), got '" TOKF "'%s%s%s",
                    TOKA(t), s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
    }
    return 0;
}

static int parse_target(struct scn_parser *p, struct scn_target *tg)
{
    const struct scn_tok *t = peek(p);
    memset(tg, 0, sizeof *tg);
    if (!t)
        return FAIL(p, end_col(p), "expected a server target at the end of the line");
    if (t->s[0] >= '0' && t->s[0] <= '9') {
        tg->kind = SCN_TGT_IDS;
        return parse_id_list(p, &tg->ids_mask);
    }
    return parse_symbolic_target(p, t, tg);
}

/* Raw text from the current token to the end of the line, for another
 * module's parser; its position is kept so that module reports errors at
 * the right column. */
static int rest_as_text(struct scn_parser *p, const char *what, struct scn_text *txt)
{
    const struct scn_tok *first = peek(p);
    if (!first)
        return FAIL(p, end_col(p), "expected %s at the end of the line", what);
    const struct scn_tok *last = &p->tok[p->ntok - 1];
    size_t n = (size_t)(last->s + last->len - first->s);
    if (n >= SCN_TEXT_MAX)
        return FAIL(p, first->col, "%s is longer than %d bytes", what, SCN_TEXT_MAX - 1);
    memcpy(txt->text, first->s, n);
    txt->text[n] = '\0';
    txt->line = p->line;
    txt->col = first->col;
    p->i = p->ntok;
    return 0;
}

/* ------------------------------------------------- setting statements */

/* Each statement handler starts after its keyword (p->i == 1), reads the
 * rest of the line and fails on trailing tokens. `kw` is the keyword. */

static int st_cluster(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_CLUSTER, kw, "cluster") != 0 || need_word(p, "voters") != 0)
        return -1;
    struct scenario *s = p->out;
    if (next_int(p, 1, SCN_MAX_SERVERS, "the number of voters", &s->voters) != 0)
        return -1;
    s->observers = 0;
    if (tok_is(peek(p), "observers")) {
        p->i++;
        if (next_int(p, 0, SCN_MAX_SERVERS - s->voters, "the number of observers",
                     &s->observers) != 0)
            return -1;
    }
    return expect_end(p);
}

static int st_run(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_RUN, kw, "run") != 0 ||
        next_positive_duration(p, "the run length", &p->out->run_ns) != 0)
        return -1;
    return expect_end(p);
}

static int st_tick(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_TICK, kw, "tick") != 0 ||
        next_positive_duration(p, "the tick length", &p->out->tick_ns) != 0)
        return -1;
    return expect_end(p);
}

#define SCN_LIMIT_TICKS_MAX 1000

static int st_init_limit(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_INIT_LIMIT, kw, "init-limit") != 0 ||
        next_int(p, 1, SCN_LIMIT_TICKS_MAX, "init-limit (ticks)", &p->out->init_limit) != 0)
        return -1;
    return expect_end(p);
}

static int st_sync_limit(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_SYNC_LIMIT, kw, "sync-limit") != 0 ||
        next_int(p, 1, SCN_LIMIT_TICKS_MAX, "sync-limit (ticks)", &p->out->sync_limit) != 0)
        return -1;
    return expect_end(p);
}

static int st_seed(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_SEED, kw, "seed") != 0 ||
        next_uint(p, 0, UINT64_MAX, "the seed", &p->out->seed) != 0)
        return -1;
    return expect_end(p);
}

static int st_network_broken(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scenario *s = p->out;
    bool dup = false, reo = false;
    if (once(p, ONCE_NET_BROKEN, kw, "network broken") != 0)
        return -1;
    if (!peek(p))
        return FAIL(p, end_col(p), "expected 'duplicate P' or 'reorder P' at the end of the line");
    while (peek(p)) {
        const struct scn_tok *t = need(p, "duplicate or reorder");
        bool is_dup = tok_is(t, "duplicate");
        if (!is_dup && !tok_is(t, "reorder")) {
            static const char *const words[] = {"duplicate", "reorder"};
            return fail_unknown(p, t, "broken-network setting", words, 2);
        }
        if (is_dup ? dup : reo)
            return FAIL(p, t->col, "'" TOKF "' given twice", TOKA(t));
        *(is_dup ? &dup : &reo) = true;
        if (next_probability(p, is_dup ? "the duplicate probability" :
                             "the reorder probability",
                             is_dup ? &s->net_duplicate_ppb : &s->net_reorder_ppb) != 0)
            return -1;
    }
    return 0;
}

static int st_network(struct scn_parser *p, const struct scn_tok *kw)
{
    static const char *const words[] = {"latency", "loss", "broken"};
    const struct scn_tok *t = need(p, "latency, loss or broken");
    if (!t)
        return -1;
    if (tok_is(t, "latency")) {
        if (once(p, ONCE_NET_LATENCY, kw, "network latency") != 0)
            return -1;
        return rest_as_text(p, "a latency distribution", &p->out->net_latency);
    }
    if (tok_is(t, "loss")) {
        if (once(p, ONCE_NET_LOSS, kw, "network loss") != 0 ||
            next_probability(p, "the loss probability", &p->out->net_loss_ppb) != 0)
            return -1;
        return expect_end(p);
    }
    if (tok_is(t, "broken"))
        return st_network_broken(p, kw);
    return fail_unknown(p, t, "network setting", words, COUNT_OF(words));
}

static struct scn_link *link_slot(struct scn_parser *p, int a, int b, const struct scn_tok *at)
{
    struct scenario *s = p->out;
    for (int i = 0; i < s->link_count; i++)
        if (s->links[i].a == a && s->links[i].b == b)
            return &s->links[i];
    if (s->link_count == SCN_MAX_LINKS) {
        FAIL(p, at->col, "more than %d link overrides", SCN_MAX_LINKS);
        return NULL;
    }
    struct scn_link *l = &s->links[s->link_count++];
    memset(l, 0, sizeof *l);
    l->a = a;
    l->b = b;
    l->pos = (struct scn_pos){p->line, at->col};
    return l;
}

static int st_link(struct scn_parser *p, const struct scn_tok *kw)
{
    static const char *const words[] = {"latency", "loss"};
    int a, b;
    if (next_link(p, &a, &b) != 0)
        return -1;
    const struct scn_tok *t = need(p, "latency or loss");
    if (!t)
        return -1;
    int which = lookup(t, words, 2, false);
    if (which < 0)
        return fail_unknown(p, t, "link setting", words, 2);
    struct scn_link *l = link_slot(p, a, b, kw);
    if (!l)
        return -1;
    uint32_t bit = which == 0 ? SCN_LINK_LATENCY : SCN_LINK_LOSS;
    if (l->fields & bit)
        return FAIL(p, t->col, "duplicate %s override for link %d-%d", words[which], a, b);
    l->fields |= bit;
    if (which == 0)
        return rest_as_text(p, "a latency distribution", &l->latency);
    if (next_probability(p, "the loss probability", &l->loss_ppb) != 0)
        return -1;
    return expect_end(p);
}

static int st_disk(struct scn_parser *p, const struct scn_tok *kw)
{
    static const char *const words[] = {"fsync", "write", "torn-write-probability",
                                        "lost-write-probability"};
    static const enum scn_once which_once[] = {ONCE_DISK_FSYNC, ONCE_DISK_WRITE,
                                               ONCE_DISK_TORN, ONCE_DISK_LOST};
    struct scenario *s = p->out;
    const struct scn_tok *t = need(p, "a disk setting");
    if (!t)
        return -1;
    int w = lookup(t, words, COUNT_OF(words), false);
    if (w < 0)
        return fail_unknown(p, t, "disk setting", words, COUNT_OF(words));
    char what[64];
    snprintf(what, sizeof what, "disk %s", words[w]);
    if (once(p, which_once[w], kw, what) != 0)
        return -1;
    if (w <= 1) {
        if (need_word(p, "latency") != 0)
            return -1;
        return rest_as_text(p, "a latency distribution",
                            w == 0 ? &s->disk_fsync_latency : &s->disk_write_latency);
    }
    if (next_probability(p, "a probability",
                         w == 2 ? &s->disk_torn_write_ppb : &s->disk_lost_write_ppb) != 0)
        return -1;
    return expect_end(p);
}

/* ---------------------------------------------- workload and checks */

#define SCN_WEIGHT_MAX   1000000
#define SCN_KEYS_MAX     1000000
#define SCN_RATE_MAX     1000000

static int st_clients(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_CLIENTS, kw, "clients") != 0 ||
        next_int(p, 0, SCN_MAX_CLIENTS, "the number of clients", &p->out->clients) != 0)
        return -1;
    return expect_end(p);
}

/* workload mix op=W ...: unlisted ops get weight 0; the sum must be > 0. */
static int st_workload(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scenario *s = p->out;
    if (once(p, ONCE_WORKLOAD, kw, "workload") != 0 || need_word(p, "mix") != 0)
        return -1;
    const struct scn_tok *mix = &p->tok[p->i - 1];
    bool given[SCN_OP_COUNT_] = {false};
    uint64_t sum = 0;
    memset(s->mix_weight, 0, sizeof s->mix_weight);
    if (!peek(p))
        return FAIL(p, end_col(p), "expected op=weight pairs like get=5 at the end of the line");
    while (peek(p)) {
        const struct scn_tok *t = need(p, "an operation");
        int op = lookup(t, op_names, SCN_OP_COUNT_, false);
        if (op < 0)
            return fail_unknown(p, t, "operation", op_names, SCN_OP_COUNT_);
        if (given[op])
            return FAIL(p, t->col, "operation '%s' given twice", op_names[op]);
        given[op] = true;
        uint64_t w;
        if (need_word(p, "=") != 0 || next_uint(p, 0, SCN_WEIGHT_MAX, "a weight", &w) != 0)
            return -1;
        s->mix_weight[op] = (uint32_t)w;
        sum += w;
    }
    if (sum == 0)
        return FAIL(p, mix->col, "workload mix weights sum to 0");
    return 0;
}

static int st_keys(struct scn_parser *p, const struct scn_tok *kw)
{
    uint64_t v;
    if (once(p, ONCE_KEYS, kw, "keys") != 0 ||
        next_uint(p, 1, SCN_KEYS_MAX, "the number of keys", &v) != 0)
        return -1;
    p->out->keys = (uint32_t)v;
    return expect_end(p);
}

/* rate N/s */
static int st_rate(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_RATE, kw, "rate") != 0)
        return -1;
    const struct scn_tok *t = need(p, "a rate like 200/s");
    if (!t)
        return -1;
    int pos = 0, nd = 0;
    uint64_t v;
    bool ok = read_digits(t, &pos, &v, &nd);
    struct scn_tok unit = {t->s + pos, t->len - pos, t->col + pos};
    if (nd == 0 || !tok_is(&unit, "/s"))
        return FAIL(p, t->col, "expected a rate like 200/s, got '" TOKF "'", TOKA(t));
    if (!ok || v < 1 || v > SCN_RATE_MAX)
        return FAIL(p, t->col, "rate '" TOKF "' is out of range 1..%d/s", TOKA(t), SCN_RATE_MAX);
    p->out->rate_per_s = (uint32_t)v;
    return expect_end(p);
}

static int st_session_timeout(struct scn_parser *p, const struct scn_tok *kw)
{
    if (once(p, ONCE_SESSION_TIMEOUT, kw, "session-timeout") != 0 ||
        next_positive_duration(p, "the session timeout", &p->out->session_timeout_ns) != 0)
        return -1;
    return expect_end(p);
}

#define SCN_RECIPE_DEFAULT_CLIENTS 2

static int st_recipe(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scenario *s = p->out;
    const struct scn_tok *t = need(p, "a recipe");
    if (!t)
        return -1;
    int k = lookup(t, recipe_names, SCN_RECIPE_COUNT_, false);
    if (k < 0)
        return fail_unknown(p, t, "recipe", recipe_names, SCN_RECIPE_COUNT_);
    for (int i = 0; i < s->recipe_count; i++)
        if ((int)s->recipes[i].kind == k)
            return FAIL(p, t->col, "recipe '%s' given twice", recipe_names[k]);
    if (s->recipe_count == SCN_MAX_RECIPES)
        return FAIL(p, kw->col, "more than %d recipes", SCN_MAX_RECIPES);
    uint64_t n = SCN_RECIPE_DEFAULT_CLIENTS, hold_ns = 0;
    if (peek(p) && !tok_is(peek(p), "hold")
        && next_uint(p, 1, SCN_MAX_RECIPE_CLIENTS, "the recipe's clients", &n) != 0)
        return -1;
    const struct scn_tok *h = peek(p);
    if (h && tok_is(h, "hold")) {      /* `recipe lock 3 hold 2s` */
        if (k == SCN_RECIPE_QUEUE || k == SCN_RECIPE_CONFIG_WATCH)
            return FAIL(p, h->col, "'hold' is for the lock, leader-election and barrier recipes");
        p->i++;
        if (next_positive_duration(p, "the hold time", &hold_ns) != 0)
            return -1;
    }
    s->recipes[s->recipe_count++] = (struct scn_recipe){(enum scn_recipe_kind)k, (uint32_t)n, hold_ns};
    return expect_end(p);
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* bug NAME: a lowercase identifier; the core's table decides if it exists. */
static int st_bug(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scenario *s = p->out;
    const struct scn_tok *t = need(p, "a bug name");
    if (!t)
        return -1;
    for (int i = 0; i < t->len; i++)
        if (!is_name_char(t->s[i]) || (i == 0 && !(t->s[0] >= 'a' && t->s[0] <= 'z')))
            return FAIL(p, t->col + i, "bad bug name '" TOKF "' (a-z, 0-9, '-', '_'; "
                        "starts with a letter)", TOKA(t));
    if (t->len >= SCN_NAME_MAX)
        return FAIL(p, t->col, "bug name longer than %d bytes", SCN_NAME_MAX - 1);
    for (int i = 0; i < s->bug_count; i++)
        if (tok_is(t, s->bugs[i]))
            return FAIL(p, t->col, "bug '" TOKF "' given twice", TOKA(t));
    if (s->bug_count == SCN_MAX_BUGS)
        return FAIL(p, kw->col, "more than %d bugs", SCN_MAX_BUGS);
    memcpy(s->bugs[s->bug_count], t->s, (size_t)t->len);
    s->bugs[s->bug_count][t->len] = '\0';
    s->bug_count++;
    return expect_end(p);
}

/* expect KIND | expect leader|progress within D [after start|heal] */
static int st_expect(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scenario *s = p->out;
    const struct scn_tok *t = need(p, "an expectation");
    if (!t)
        return -1;
    int k = lookup(t, expect_names, SCN_EXPECT_COUNT_, false);
    if (k < 0)
        return fail_unknown(p, t, "expectation", expect_names, SCN_EXPECT_COUNT_);
    struct scn_expect e = {.kind = (enum scn_expect_kind)k, .pos = {p->line, kw->col}};
    if (k == SCN_EXPECT_LEADER_WITHIN || k == SCN_EXPECT_PROGRESS_WITHIN) {
        if (need_word(p, "within") != 0 ||
            next_positive_duration(p, "the time bound", &e.within_ns) != 0)
            return -1;
        if (peek(p)) {
            static const char *const anchors[] = {"start", "heal"};
            if (need_word(p, "after") != 0)
                return -1;
            const struct scn_tok *a = need(p, "start or heal");
            int ai = a ? lookup(a, anchors, 2, false) : -1;
            if (!a)
                return -1;
            if (ai < 0)
                return fail_unknown(p, a, "anchor (start or heal)", anchors, 2);
            e.anchor = (enum scn_anchor)ai;
        }
    }
    for (int i = 0; i < s->expect_count; i++)
        if (s->expects[i].kind == e.kind && s->expects[i].anchor == e.anchor)
            return FAIL(p, t->col, "expectation '%s' given twice (first at line %d)",
                        expect_names[k], s->expects[i].pos.line);
    if (s->expect_count == SCN_MAX_EXPECTS)
        return FAIL(p, kw->col, "more than %d expectations", SCN_MAX_EXPECTS);
    s->expects[s->expect_count++] = e;
    return expect_end(p);
}

/* ------------------------------------------------------------ timeline */

#define SCN_FACTOR_MAX 10000
#define SCN_POINT_COUNT_MAX 1000

/* crash TARGET [at POINT [once | count N]] */
static int act_crash(struct scn_parser *p, struct scn_event *ev)
{
    if (parse_target(p, &ev->target) != 0)
        return -1;
    ev->action = SCN_ACT_CRASH;
    if (!tok_is(peek(p), "at"))
        return 0;
    p->i++;
    const struct scn_tok *t = need(p, "a protocol point");
    if (!t)
        return -1;
    int pt = lookup(t, point_names, SCN_POINT_COUNT_, false);
    if (pt < 0)
        return fail_unknown(p, t, "protocol point", point_names, SCN_POINT_COUNT_);
    ev->action = SCN_ACT_CRASH_AT_POINT;
    ev->point = (enum scn_crash_point)pt;
    ev->point_count = 1;
    if (tok_is(peek(p), "once")) {
        p->i++;
    } else if (tok_is(peek(p), "count")) {
        uint64_t n;
        p->i++;
        if (next_uint(p, 1, SCN_POINT_COUNT_MAX, "the count", &n) != 0)
            return -1;
        ev->point_count = (uint32_t)n;
    }
    return 0;
}

static int act_target_only(struct scn_parser *p, struct scn_event *ev)
{
    return parse_target(p, &ev->target);
}

static int act_none(struct scn_parser *p, struct scn_event *ev)
{
    (void)p;
    (void)ev;
    return 0;
}

/* A client name: 'c' then a number ("c3"), as traces name clients. */
static bool tok_is_client(const struct scn_tok *t)
{
    return t && t->len >= 2 && t->s[0] == 'c' && t->s[1] >= '0' && t->s[1] <= '9';
}

/* Appends client `t` to ev->clients (group g). The range is checked once the
 * whole file is read (check_clients): `clients` and recipes may come later. */
static int add_client(struct scn_parser *p, const struct scn_tok *t, struct scn_event *ev, int g,
                      const char *twice)
{
    struct scn_tok num = {t->s + 1, t->len - 1, t->col + 1};
    uint64_t v;
    if (parse_uint(p, &num, 1, SCN_MAX_ALL_CLIENTS, "the client number", &v) != 0)
        return -1;
    for (int i = 0; i < ev->client_count; i++)
        if (ev->clients[i].client == v)
            return FAIL(p, t->col, "client c%u %s", (unsigned)v, twice);
    if (ev->client_count == SCN_MAX_EVENT_CLIENTS)
        return FAIL(p, t->col, "more than %d clients named in one event", SCN_MAX_EVENT_CLIENTS);
    ev->clients[ev->client_count++] =
        (struct scn_client_ref){(uint16_t)v, (uint8_t)g, (uint16_t)t->col};
    return 0;
}

static int group_clients(const struct scn_event *ev, int g)
{
    int n = 0;
    for (int i = 0; i < ev->client_count; i++)
        n += ev->clients[i].group == g;
    return n;
}

/* { member, member }: server ids and client names (c1) */
static int parse_group(struct scn_parser *p, const struct scn_tok *open, uint32_t taken,
                       struct scn_event *ev)
{
    int g = ev->group_count;
    uint32_t *mask = &ev->group_mask[g];
    *mask = 0;
    for (;;) {
        const struct scn_tok *t = peek(p);
        bool empty = *mask == 0 && group_clients(ev, g) == 0;
        if (!t || tok_is(t, "{"))
            return FAIL(p, open->col, "unclosed '{'");
        if (tok_is(t, "}")) {
            if (empty)
                return FAIL(p, t->col, "empty partition group");
            p->i++;
            return 0;
        }
        if (!empty) {
            if (!tok_is(t, ","))
                return FAIL(p, t->col, "expected ',' or '}', got '" TOKF "'", TOKA(t));
            p->i++;
            t = peek(p);
            if (!t)
                return FAIL(p, open->col, "unclosed '{'");
        }
        if (tok_is_client(t)) {
            p->i++;
            if (add_client(p, t, ev, g, "is in two partition groups") != 0)
                return -1;
            continue;
        }
        int id;
        if (next_id(p, &id) != 0)
            return -1;
        if ((taken | *mask) & (1u << id))
            return FAIL(p, t->col, "server %d is in two partition groups", id);
        *mask |= 1u << id;
    }
}

/* isolate TARGET | isolate LIST, where the list may name clients: "c1,3,c2".
 * Each member is cut off alone: a server from every other server, a client
 * from every server. */
static int act_isolate(struct scn_parser *p, struct scn_event *ev)
{
    if (!tok_is_client(peek(p)) && !(peek(p) && peek(p)->s[0] >= '0' && peek(p)->s[0] <= '9'))
        return parse_target(p, &ev->target);
    ev->target.kind = SCN_TGT_IDS;
    for (;;) {
        const struct scn_tok *t = peek(p);
        if (tok_is_client(t)) {
            p->i++;
            if (add_client(p, t, ev, 0, "is listed twice") != 0)
                return -1;
        } else {
            int id;
            if (next_id(p, &id) != 0)
                return -1;
            if (ev->target.ids_mask & (1u << id))
                return FAIL(p, t->col, "server %d is listed twice", id);
            ev->target.ids_mask |= 1u << id;
        }
        if (!tok_is(peek(p), ","))
            return 0;
        p->i++;
    }
}

static uint32_t all_servers_mask(const struct scn_parser *p)
{
    uint32_t m = 0;
    for (int id = 1; id <= server_total(p); id++)
        m |= 1u << id;
    return m;
}

static int act_one_way(struct scn_parser *p, struct scn_event *ev)
{
    ev->action = SCN_ACT_ONE_WAY;
    if (parse_target(p, &ev->target) != 0 || need_word(p, "->") != 0)
        return -1;
    const struct scn_tok *to = peek(p);
    if (parse_target(p, &ev->target_to) != 0)
        return -1;
    if (ev->target.kind == SCN_TGT_IDS && ev->target_to.kind == SCN_TGT_IDS &&
        (ev->target.ids_mask & ev->target_to.ids_mask))
        return FAIL(p, to->col, "a server is on both sides of the one-way cut");
    return 0;
}

/* partition {ids} {ids}... | partition one-way A -> B */
static int act_partition(struct scn_parser *p, struct scn_event *ev)
{
    const struct scn_tok *kw = &p->tok[p->i - 1];
    if (tok_is(peek(p), "one-way")) {
        p->i++;
        return act_one_way(p, ev);
    }
    uint32_t taken = 0;
    while (tok_is(peek(p), "{")) {
        const struct scn_tok *open = need(p, "{");
        if (ev->group_count == SCN_MAX_GROUPS)
            return FAIL(p, open->col, "more than %d partition groups", SCN_MAX_GROUPS);
        if (parse_group(p, open, taken, ev) != 0)
            return -1;
        taken |= ev->group_mask[ev->group_count];
        ev->group_count++;
    }
    if (ev->group_count == 0) {
        const struct scn_tok *t = peek(p);
        if (!t)
            return FAIL(p, end_col(p), "expected '{' (a group like {1,2}) or one-way");
        return FAIL(p, t->col, "expected '{' (a group like {1,2}) or one-way, got '" TOKF "'",
                    TOKA(t));
    }
    int sides = ev->group_count + ((all_servers_mask(p) & ~taken) != 0);
    if (sides < 2)
        return FAIL(p, kw->col, "partition needs at least two sides");
    return 0;
}

/* clog A-B DELAY for DURATION */
static int act_clog(struct scn_parser *p, struct scn_event *ev)
{
    if (next_link(p, &ev->link_a, &ev->link_b) != 0 ||
        next_positive_duration(p, "the added delay", &ev->delay_ns) != 0 ||
        need_word(p, "for") != 0 ||
        next_positive_duration(p, "the duration", &ev->duration_ns) != 0)
        return -1;
    return 0;
}

static int act_drop(struct scn_parser *p, struct scn_event *ev)
{
    return next_link(p, &ev->link_a, &ev->link_b);
}

/* TARGET for DURATION (pause, disk-full) */
static int act_target_for(struct scn_parser *p, struct scn_event *ev)
{
    if (parse_target(p, &ev->target) != 0 || need_word(p, "for") != 0 ||
        next_positive_duration(p, "the duration", &ev->duration_ns) != 0)
        return -1;
    return 0;
}

static int act_skew(struct scn_parser *p, struct scn_event *ev)
{
    if (parse_target(p, &ev->target) != 0)
        return -1;
    return next_signed_duration(p, "a clock step like +250ms", &ev->skew_ns);
}

static int act_drift(struct scn_parser *p, struct scn_event *ev)
{
    if (parse_target(p, &ev->target) != 0)
        return -1;
    return next_drift(p, &ev->drift_ppm);
}

/* slow-disk TARGET xF for DURATION */
static int act_slow_disk(struct scn_parser *p, struct scn_event *ev)
{
    if (parse_target(p, &ev->target) != 0)
        return -1;
    const struct scn_tok *t = need(p, "a slowdown factor like x10");
    if (!t)
        return -1;
    uint64_t f;
    if (t->s[0] != 'x' || t->len < 2)
        return FAIL(p, t->col, "expected a slowdown factor like x10, got '" TOKF "'", TOKA(t));
    struct scn_tok num = {t->s + 1, t->len - 1, t->col + 1};
    if (parse_uint(p, &num, 2, SCN_FACTOR_MAX, "the slowdown factor", &f) != 0)
        return -1;
    ev->factor = (uint32_t)f;
    if (need_word(p, "for") != 0 ||
        next_positive_duration(p, "the duration", &ev->duration_ns) != 0)
        return -1;
    return 0;
}

/* hold|release KIND A -> B */
static int act_hold(struct scn_parser *p, struct scn_event *ev)
{
    const struct scn_tok *t = need(p, "a message kind like PROPOSAL");
    if (!t)
        return -1;
    int k = lookup(t, msg_names, SCN_MSG_COUNT_, true);
    if (k < 0)
        return fail_unknown(p, t, "message kind", msg_names, SCN_MSG_COUNT_);
    ev->msg_kind = (enum scn_msg_kind)k;
    if (parse_target(p, &ev->target) != 0 || need_word(p, "->") != 0)
        return -1;
    const struct scn_tok *to = peek(p);
    if (parse_target(p, &ev->target_to) != 0)
        return -1;
    if (ev->target.kind == SCN_TGT_IDS && ev->target_to.kind == SCN_TGT_IDS &&
        (ev->target.ids_mask & ev->target_to.ids_mask))
        return FAIL(p, to->col, "a server cannot send to itself");
    return 0;
}

struct scn_action_def {
    const char *name;
    enum scn_action action;
    int (*parse)(struct scn_parser *p, struct scn_event *ev);
};

static const struct scn_action_def action_defs[] = {
    {"crash", SCN_ACT_CRASH, act_crash},
    {"restart", SCN_ACT_RESTART, act_target_only},
    {"partition", SCN_ACT_PARTITION, act_partition},
    {"isolate", SCN_ACT_ISOLATE, act_isolate},
    {"heal", SCN_ACT_HEAL, act_none},
    {"clog", SCN_ACT_CLOG, act_clog},
    {"drop", SCN_ACT_DROP, act_drop},
    {"pause", SCN_ACT_PAUSE, act_target_for},
    {"skew", SCN_ACT_SKEW, act_skew},
    {"drift", SCN_ACT_DRIFT, act_drift},
    {"torn-write", SCN_ACT_TORN_WRITE, act_target_only},
    {"slow-disk", SCN_ACT_SLOW_DISK, act_slow_disk},
    {"disk-full", SCN_ACT_DISK_FULL, act_target_for},
    {"hold", SCN_ACT_HOLD, act_hold},
    {"release", SCN_ACT_RELEASE, act_hold},
};

static const char *const action_words[] = {
    "crash", "restart", "partition", "isolate", "heal", "clog", "drop", "pause", "skew",
    "drift", "torn-write", "slow-disk", "disk-full", "hold", "release",
};

static struct scn_event *new_event(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scenario *s = p->out;
    if (s->event_count == SCN_MAX_EVENTS) {
        FAIL(p, kw->col, "more than %d timeline events", SCN_MAX_EVENTS);
        return NULL;
    }
    struct scn_event *ev = &s->events[s->event_count];
    memset(ev, 0, sizeof *ev);
    ev->pos = (struct scn_pos){p->line, kw->col};
    return ev;
}

_Static_assert(COUNT_OF(action_defs) == COUNT_OF(action_words), "one word per action");

/* The action part of `at`/`every`; the caller keeps the event if it parses. */
static int parse_action(struct scn_parser *p, struct scn_event *ev)
{
    const struct scn_tok *t = need(p, "an action (crash, partition, heal, ...)");
    if (!t)
        return -1;
    int a = lookup(t, action_words, COUNT_OF(action_words), false);
    if (a < 0)
        return fail_unknown(p, t, "action", action_words, COUNT_OF(action_words));
    ev->action = action_defs[a].action;
    return action_defs[a].parse(p, ev) != 0 ? -1 : expect_end(p);
}

static int check_in_run(struct scn_parser *p, const struct scn_tok *t, uint64_t ns)
{
    if (ns <= p->out->run_ns)
        return 0;
    char run[32];
    scn_format_duration(p->out->run_ns, run, sizeof run);
    return FAIL(p, t->col, "time " TOKF " is after the end of the run (run %s)", TOKA(t), run);
}

static int st_at(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scn_event *ev = new_event(p, kw);
    const struct scn_tok *t = peek(p);
    if (!ev || next_duration(p, "a time like 2s", &ev->at_ns) != 0 ||
        check_in_run(p, t, ev->at_ns) != 0 || parse_action(p, ev) != 0)
        return -1;
    p->out->event_count++;
    return 0;
}

/* every PERIOD [from T] [until T] ACTION: first firing at `from` (default:
 * one period in), then every period until `until` (default: the run end). */
static int st_every(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scn_event *ev = new_event(p, kw);
    if (!ev || next_positive_duration(p, "the period", &ev->every_ns) != 0)
        return -1;
    ev->at_ns = ev->every_ns;
    const struct scn_tok *from = NULL, *until = NULL;
    if (tok_is(peek(p), "from")) {
        p->i++;
        from = peek(p);
        if (next_duration(p, "the first firing time", &ev->at_ns) != 0)
            return -1;
    }
    if (tok_is(peek(p), "until")) {
        p->i++;
        until = peek(p);
        if (next_duration(p, "the last firing time", &ev->until_ns) != 0 ||
            check_in_run(p, until, ev->until_ns) != 0)
            return -1;
        if (ev->until_ns < ev->at_ns)
            return FAIL(p, until->col, "'until' is before the first firing");
    }
    if (check_in_run(p, from ? from : &p->tok[1], ev->at_ns) != 0)
        return -1;
    uint64_t end = ev->until_ns ? ev->until_ns : p->out->run_ns;
    if ((end - ev->at_ns) / ev->every_ns >= SCN_FIRINGS_MAX)
        return FAIL(p, p->tok[1].col, "'every' would fire more than %d times", SCN_FIRINGS_MAX);
    if (parse_action(p, ev) != 0)
        return -1;
    if (ev->action == SCN_ACT_CRASH_AT_POINT)
        return FAIL(p, kw->col, "a crash at a protocol point cannot repeat (use 'count N')");
    p->out->event_count++;
    return 0;
}

/* crash TARGET at POINT [once|count N]: armed from the start. */
static int st_crash(struct scn_parser *p, const struct scn_tok *kw)
{
    struct scn_event *ev = new_event(p, kw);
    if (!ev || act_crash(p, ev) != 0)
        return -1;
    if (ev->action != SCN_ACT_CRASH_AT_POINT)
        return FAIL(p, kw->col, "a crash needs a time ('at 2s crash ...') or a protocol "
                    "point ('crash 2 at after-fsync-before-ack')");
    if (expect_end(p) != 0)
        return -1;
    p->out->event_count++;
    return 0;
}

/* ---------------------------------------------------------- statements */

struct scn_stmt_def {
    const char *name;
    int (*parse)(struct scn_parser *p, const struct scn_tok *kw);
    int pass;   /* read in pass 1 or 2 */
};

static const struct scn_stmt_def stmt_defs[] = {
    {"cluster", st_cluster, 1},
    {"run", st_run, 1},
    {"seed", st_seed, 2},
    {"tick", st_tick, 2},
    {"init-limit", st_init_limit, 2},
    {"sync-limit", st_sync_limit, 2},
    {"network", st_network, 2},
    {"link", st_link, 2},
    {"disk", st_disk, 2},
    {"clients", st_clients, 2},
    {"workload", st_workload, 2},
    {"keys", st_keys, 2},
    {"rate", st_rate, 2},
    {"session-timeout", st_session_timeout, 2},
    {"recipe", st_recipe, 2},
    {"bug", st_bug, 2},
    {"at", st_at, 2},
    {"every", st_every, 2},
    {"crash", st_crash, 2},
    {"expect", st_expect, 2},
};

static const char *const stmt_words[] = {
    "cluster", "run", "seed", "tick", "init-limit", "sync-limit", "network", "link", "disk",
    "clients", "workload", "keys", "rate", "session-timeout", "recipe", "bug", "at", "every",
    "crash", "expect",
};

_Static_assert(COUNT_OF(stmt_defs) == COUNT_OF(stmt_words), "one word per statement");

static int parse_statement(struct scn_parser *p)
{
    const struct scn_tok *kw = &p->tok[0];
    int k = lookup(kw, stmt_words, COUNT_OF(stmt_words), false);
    if (k < 0) {
        if (p->pass == 2)
            return 0; /* reported in pass 1 */
        return fail_unknown(p, kw, "statement", stmt_words, COUNT_OF(stmt_words));
    }
    if (stmt_defs[k].pass != p->pass)
        return 0;
    p->i = 1;
    return stmt_defs[k].parse(p, kw);
}

/* One pass over every line. */
static int parse_pass(struct scn_parser *p, const char *text, size_t len)
{
    size_t off = 0;
    int statements = 0;
    p->line = 0;
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
        size_t next = off + n + (nl ? 1 : 0);
        p->line++;
        if (n > 0 && text[off + n - 1] == '\r')
            n--; /* CRLF files */
        if (n > SCN_LINE_MAX)
            return FAIL(p, SCN_LINE_MAX + 1, "line longer than %d bytes", SCN_LINE_MAX);
        if (tokenize(p, text + off, (int)n) != 0)
            return -1;
        off = next;
        if (p->ntok == 0)
            continue;
        if (++statements > SCN_MAX_STATEMENTS)
            return FAIL(p, 1, "more than %d statements", SCN_MAX_STATEMENTS);
        if (parse_statement(p) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------- checks across statements */

static bool has_action(const struct scenario *s, enum scn_action a)
{
    for (int i = 0; i < s->event_count; i++)
        if (s->events[i].action == a)
            return true;
    return false;
}

static bool has_recipe(const struct scenario *s, enum scn_recipe_kind k)
{
    for (int i = 0; i < s->recipe_count; i++)
        if (s->recipes[i].kind == k)
            return true;
    return false;
}

/* `lock-holder` names a client, not a server: only `isolate` takes it (the
 * client is cut off from every server until a heal), and only with a lock. */
static int check_targets(struct scn_parser *p)
{
    const struct scenario *s = p->out;
    for (int i = 0; i < s->event_count; i++) {
        const struct scn_event *ev = &s->events[i];
        bool holder = ev->target.kind == SCN_TGT_LOCK_HOLDER
                   || ev->target_to.kind == SCN_TGT_LOCK_HOLDER;
        if (holder && ev->action != SCN_ACT_ISOLATE)
            return fail_at(p, ev->pos.line, ev->pos.col,
                           "'lock-holder' is a client: only 'isolate lock-holder' takes it");
        if (holder && !has_recipe(s, SCN_RECIPE_LOCK))
            return fail_at(p, ev->pos.line, ev->pos.col,
                           "'isolate lock-holder' needs a 'recipe lock' statement");
    }
    return 0;
}

static int all_clients(const struct scenario *s)
{
    int n = s->clients;
    for (int i = 0; i < s->recipe_count; i++)
        n += (int)s->recipes[i].clients;
    return n;
}

/* Client names (c1..) in partitions and isolations must name a client the
 * scenario has: workload clients first, then each recipe's. */
static int check_clients(struct scn_parser *p)
{
    const struct scenario *s = p->out;
    int n = all_clients(s);
    for (int i = 0; i < s->event_count; i++) {
        const struct scn_event *ev = &s->events[i];
        for (int j = 0; j < ev->client_count; j++) {
            int k = ev->clients[j].client;
            if (k <= n)
                continue;
            if (n == 0)
                return fail_at(p, ev->pos.line, ev->clients[j].col,
                               "client c%d is named but the scenario has no clients "
                               "(add 'clients N' or a recipe)", k);
            return fail_at(p, ev->pos.line, ev->clients[j].col,
                           "client c%d is out of range c1..c%d (%d workload + %d recipe clients)",
                           k, n, s->clients, n - s->clients);
        }
    }
    return 0;
}

static int check_expects(struct scn_parser *p)
{
    const struct scenario *s = p->out;
    for (int i = 0; i < s->expect_count; i++) {
        const struct scn_expect *e = &s->expects[i];
        if (e->anchor == SCN_ANCHOR_HEAL && !has_action(s, SCN_ACT_HEAL))
            return fail_at(p, e->pos.line, e->pos.col,
                           "'after heal' but the timeline has no heal");
        int r = expect_recipe(e->kind);
        if (r >= 0 && !has_recipe(s, (enum scn_recipe_kind)r))
            return fail_at(p, e->pos.line, e->pos.col, "'expect %s' needs a 'recipe %s' statement",
                           expect_names[e->kind], recipe_names[r]);
    }
    return 0;
}

/* Stable insertion sort by first firing time; at most SCN_MAX_EVENTS. */
static void sort_events(struct scenario *s)
{
    for (int i = 1; i < s->event_count; i++) {
        struct scn_event ev = s->events[i];
        int j = i;
        while (j > 0 && s->events[j - 1].at_ns > ev.at_ns) {
            s->events[j] = s->events[j - 1];
            j--;
        }
        s->events[j] = ev;
    }
}

static const uint32_t default_mix[SCN_OP_COUNT_] = {
    [SCN_OP_CREATE] = 1, [SCN_OP_SET] = 3, [SCN_OP_GET] = 5, [SCN_OP_DELETE] = 1,
};

void scn_init(struct scenario *s)
{
    memset(s, 0, sizeof *s);
    s->seed = SCN_DEFAULT_SEED;
    s->voters = SCN_DEFAULT_VOTERS;
    s->tick_ns = SCN_DEFAULT_TICK_NS;
    s->init_limit = SCN_DEFAULT_INIT_LIMIT;
    s->sync_limit = SCN_DEFAULT_SYNC_LIMIT;
    s->run_ns = SCN_DEFAULT_RUN_NS;
    memcpy(s->mix_weight, default_mix, sizeof s->mix_weight);
    s->keys = SCN_DEFAULT_KEYS;
    s->rate_per_s = SCN_DEFAULT_RATE_PER_S;
    s->session_timeout_ns = SCN_DEFAULT_SESSION_TIMEOUT_NS;
}

void scn_free(struct scenario *s)
{
    if (s)
        scn_init(s);
}

int scn_parse(const char *text, size_t len, const char *filename, struct scenario *out,
              char *err, size_t errlen)
{
    struct scn_parser p;
    memset(&p, 0, sizeof p);
    p.filename = filename ? filename : "<input>";
    p.out = out;
    p.err = err;
    p.errlen = err ? errlen : 0;
    if (p.errlen)
        err[0] = '\0';
    scn_init(out);
    snprintf(out->filename, sizeof out->filename, "%s", p.filename);
    if (len > SCN_FILE_MAX)
        return fail_at(&p, 1, 1, "input larger than %u bytes", SCN_FILE_MAX);
    if (len > 0 && !text)
        return fail_at(&p, 1, 1, "no input text");
    for (p.pass = 1; p.pass <= 2; p.pass++)
        if (parse_pass(&p, text, len) != 0)
            return -1;
    if (check_expects(&p) != 0 || check_targets(&p) != 0 || check_clients(&p) != 0)
        return -1;
    sort_events(out);
    return 0;
}

int scn_parse_file(const char *path, struct scenario *out, char *err, size_t errlen)
{
    struct scn_parser p = {.filename = path ? path : "<input>", .err = err,
                           .errlen = err ? errlen : 0};
    scn_init(out);
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return fail_at(&p, 0, 0, "cannot open: %s", path ? strerror(errno) : "no path");
    char *buf = malloc(SCN_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, SCN_FILE_MAX + 1, f) : 0;
    int rc;
    if (!buf)
        rc = fail_at(&p, 0, 0, "out of memory");
    else if (ferror(f))
        rc = fail_at(&p, 0, 0, "cannot read: %s", strerror(errno));
    else if (n > SCN_FILE_MAX)
        rc = fail_at(&p, 1, 1, "file larger than %u bytes", SCN_FILE_MAX);
    else
        rc = scn_parse(buf, n, path, out, err, errlen);
    free(buf);
    fclose(f);
    return rc;
}

int scn_check(const struct scenario *s, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct scenario *back = malloc(sizeof *back);
    int rc = -1;
    if (!f || !back) {
        if (errlen)
            snprintf(err, errlen, "<generated>: out of memory");
    } else if (scn_print(s, f) != 0 || fflush(f) != 0) {
        if (errlen)
            snprintf(err, errlen, "<generated>: cannot print the scenario");
    } else {
        rc = scn_parse(text, len, "<generated>", back, err, errlen);
        if (rc == 0 && !scn_equal(s, back)) {
            rc = -1; /* fields the text cannot express (junk in unused slots, bad enums) */
            if (errlen)
                snprintf(err, errlen, "<generated>: scenario does not survive printing");
        }
    }
    if (f)
        fclose(f);
    free(text);
    free(back);
    return rc;
}

/* ------------------------------------------------- helpers for the world */

static const struct scn_link *find_link(const struct scenario *s, int a, int b, uint32_t field)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    for (int i = 0; i < s->link_count && i < SCN_MAX_LINKS; i++)
        if (s->links[i].a == lo && s->links[i].b == hi && (s->links[i].fields & field))
            return &s->links[i];
    return NULL;
}

const struct scn_text *scn_link_latency(const struct scenario *s, int a, int b)
{
    const struct scn_link *l = find_link(s, a, b, SCN_LINK_LATENCY);
    return l ? &l->latency : &s->net_latency;
}

uint32_t scn_link_loss_ppb(const struct scenario *s, int a, int b)
{
    const struct scn_link *l = find_link(s, a, b, SCN_LINK_LOSS);
    return l ? l->loss_ppb : s->net_loss_ppb;
}

bool scn_event_firing_ns(const struct scenario *s, const struct scn_event *ev, uint32_t k,
                         uint64_t *t_ns)
{
    if (ev->every_ns == 0) {
        *t_ns = ev->at_ns;
        return k == 0 && ev->at_ns <= s->run_ns;
    }
    uint64_t end = ev->until_ns ? ev->until_ns : s->run_ns;
    if (ev->at_ns > end || k > (end - ev->at_ns) / ev->every_ns)
        return false;
    *t_ns = ev->at_ns + (uint64_t)k * ev->every_ns;
    return true;
}

void scn_text_error(const struct scenario *s, const struct scn_text *t, int offset,
                    const char *message, char *err, size_t errlen)
{
    if (errlen)
        snprintf(err, errlen, "%s:%d:%d: %s", s->filename, t->line, t->col + offset, message);
}

int scn_remove_event(struct scenario *s, int i)
{
    if (i < 0 || i >= s->event_count)
        return -1;
    memmove(&s->events[i], &s->events[i + 1],
            (size_t)(s->event_count - i - 1) * sizeof s->events[0]);
    s->event_count--;
    memset(&s->events[s->event_count], 0, sizeof s->events[0]);
    return 0;
}

/* ------------------------------------------------------------- printer */

void scn_format_duration(uint64_t ns, char *buf, size_t buflen)
{
    const struct scn_unit *u = &time_units[COUNT_OF(time_units) - 1];
    for (int i = 0; i < COUNT_OF(time_units) && ns != 0; i++)
        if (ns % time_units[i].ns == 0) {
            u = &time_units[i];
            break;
        }
    if (ns == 0)
        u = &time_units[1]; /* "0s" */
    snprintf(buf, buflen, "%llu%s", (unsigned long long)(ns / u->ns), u->name);
}

/* "0", "1", "0.001": parts per billion back to the shortest decimal. */
static void format_probability(uint32_t ppb, char *buf, size_t buflen)
{
    if (ppb % SCN_PPB_ONE == 0) {
        snprintf(buf, buflen, "%u", ppb / SCN_PPB_ONE);
        return;
    }
    char frac[16];
    snprintf(frac, sizeof frac, "%09u", ppb % SCN_PPB_ONE);
    for (int i = 8; i > 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    snprintf(buf, buflen, "%u.%s", ppb / SCN_PPB_ONE, frac);
}

static void format_mask(uint32_t mask, char *buf, size_t buflen)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int id = 1; id <= SCN_MAX_SERVERS && n < buflen; id++)
        if (mask & (1u << id)) {
            int w = snprintf(buf + n, buflen - n, "%s%d", n ? "," : "", id);
            if (w < 0)
                return;
            n += (size_t)w;
        }
}

static void format_target(const struct scn_target *t, char *buf, size_t buflen)
{
    static const char *const words[SCN_TGT_COUNT_] = {
        [SCN_TGT_LEADER] = "leader", [SCN_TGT_FOLLOWER] = "follower",
        [SCN_TGT_FOLLOWERS] = "followers", [SCN_TGT_MINORITY] = "minority",
        [SCN_TGT_MAJORITY] = "majority", [SCN_TGT_ALL] = "all",
        [SCN_TGT_LOCK_HOLDER] = "lock-holder",
    };
    if (t->kind == SCN_TGT_IDS)
        format_mask(t->ids_mask, buf, buflen);
    else if (t->kind == SCN_TGT_RANDOM)
        snprintf(buf, buflen, "random %u", t->count);
    else
        snprintf(buf, buflen, "%s", name_or_q(words, SCN_TGT_COUNT_, (int)t->kind));
}

#define DUR(ns, b) (scn_format_duration((ns), (b), sizeof(b)), (b))
#define PROB(ppb, b) (format_probability((ppb), (b), sizeof(b)), (b))
#define TGT(t, b) (format_target((t), (b), sizeof(b)), (b))

/* ",c1,c3": the clients of group g (all of them for g < 0), in file order. */
static void print_clients(const struct scn_event *ev, int g, bool lead_comma, FILE *out)
{
    for (int i = 0; i < ev->client_count && i < SCN_MAX_EVENT_CLIENTS; i++) {
        if (g >= 0 && ev->clients[i].group != g)
            continue;
        fprintf(out, "%sc%u", lead_comma ? "," : "", (unsigned)ev->clients[i].client);
        lead_comma = true;
    }
}

static void print_partition(const struct scn_event *ev, FILE *out)
{
    char b[128];
    fprintf(out, "partition");
    for (int g = 0; g < ev->group_count && g < SCN_MAX_GROUPS; g++) {
        format_mask(ev->group_mask[g], b, sizeof b);
        fprintf(out, " {%s", b);
        print_clients(ev, g, b[0] != '\0', out);
        fputc('}', out);
    }
}

/* The action, without the `at`/`every` prefix and the newline. */
static void print_action(const struct scn_event *ev, FILE *out)
{
    char t1[128], t2[128], d1[32], d2[32];
    switch (ev->action) {
    case SCN_ACT_CRASH_AT_POINT:
        fprintf(out, "crash %s at %s", TGT(&ev->target, t1), scn_crash_point_name(ev->point));
        if (ev->point_count == 1)
            fprintf(out, " once");
        else
            fprintf(out, " count %u", ev->point_count);
        break;
    case SCN_ACT_PARTITION: print_partition(ev, out); break;
    case SCN_ACT_ONE_WAY:
        fprintf(out, "partition one-way %s -> %s", TGT(&ev->target, t1), TGT(&ev->target_to, t2));
        break;
    case SCN_ACT_HEAL: fprintf(out, "heal"); break;
    case SCN_ACT_ISOLATE:
        if (ev->client_count == 0) {
            fprintf(out, "isolate %s", TGT(&ev->target, t1));
        } else {
            format_mask(ev->target.ids_mask, t1, sizeof t1);
            fprintf(out, "isolate %s", t1);
            print_clients(ev, -1, t1[0] != '\0', out);
        }
        break;
    case SCN_ACT_CLOG:
        fprintf(out, "clog %d-%d %s for %s", ev->link_a, ev->link_b, DUR(ev->delay_ns, d1),
                DUR(ev->duration_ns, d2));
        break;
    case SCN_ACT_DROP: fprintf(out, "drop %d-%d", ev->link_a, ev->link_b); break;
    case SCN_ACT_PAUSE:
    case SCN_ACT_DISK_FULL:
        fprintf(out, "%s %s for %s", scn_action_name(ev->action), TGT(&ev->target, t1),
                DUR(ev->duration_ns, d1));
        break;
    case SCN_ACT_SKEW:
        fprintf(out, "skew %s %c%s", TGT(&ev->target, t1), ev->skew_ns < 0 ? '-' : '+',
                DUR(ev->skew_ns < 0 ? (uint64_t)0 - (uint64_t)ev->skew_ns : (uint64_t)ev->skew_ns,
                    d1));
        break;
    case SCN_ACT_DRIFT:
        fprintf(out, "drift %s %+lldppm", TGT(&ev->target, t1), (long long)ev->drift_ppm);
        break;
    case SCN_ACT_SLOW_DISK:
        fprintf(out, "slow-disk %s x%u for %s", TGT(&ev->target, t1), ev->factor,
                DUR(ev->duration_ns, d1));
        break;
    case SCN_ACT_HOLD:
    case SCN_ACT_RELEASE:
        fprintf(out, "%s %s %s -> %s", scn_action_name(ev->action), scn_msg_kind_name(ev->msg_kind),
                TGT(&ev->target, t1), TGT(&ev->target_to, t2));
        break;
    default: /* crash, restart, isolate, torn-write: a target only */
        fprintf(out, "%s %s", scn_action_name(ev->action), TGT(&ev->target, t1));
        break;
    }
}

static void print_event(const struct scn_event *ev, FILE *out)
{
    char d1[32], d2[32], d3[32];
    if (ev->every_ns) {
        fprintf(out, "every %s", DUR(ev->every_ns, d1));
        if (ev->at_ns != ev->every_ns)
            fprintf(out, " from %s", DUR(ev->at_ns, d2));
        if (ev->until_ns)
            fprintf(out, " until %s", DUR(ev->until_ns, d3));
        fputc(' ', out);
    } else if (!(ev->action == SCN_ACT_CRASH_AT_POINT && ev->at_ns == 0)) {
        fprintf(out, "at %s ", DUR(ev->at_ns, d1));
    }
    print_action(ev, out);
    fputc('\n', out);
}

static void print_cluster(const struct scenario *s, FILE *out)
{
    char d[32];
    fprintf(out, "seed %llu\n", (unsigned long long)s->seed);
    fprintf(out, "cluster voters %d observers %d\n", s->voters, s->observers);
    fprintf(out, "tick %s\n", DUR(s->tick_ns, d));
    fprintf(out, "init-limit %d\n", s->init_limit);
    fprintf(out, "sync-limit %d\n", s->sync_limit);
    fprintf(out, "run %s\n", DUR(s->run_ns, d));
}

static void print_network(const struct scenario *s, FILE *out)
{
    char b1[32], b2[32];
    if (s->net_latency.text[0])
        fprintf(out, "network latency %s\n", s->net_latency.text);
    if (s->net_loss_ppb)
        fprintf(out, "network loss %s\n", PROB(s->net_loss_ppb, b1));
    if (s->net_duplicate_ppb || s->net_reorder_ppb)
        fprintf(out, "network broken duplicate %s reorder %s\n", PROB(s->net_duplicate_ppb, b1),
                PROB(s->net_reorder_ppb, b2));
    for (int i = 0; i < s->link_count && i < SCN_MAX_LINKS; i++) {
        const struct scn_link *l = &s->links[i];
        if (l->fields & SCN_LINK_LATENCY)
            fprintf(out, "link %d-%d latency %s\n", l->a, l->b, l->latency.text);
        if (l->fields & SCN_LINK_LOSS)
            fprintf(out, "link %d-%d loss %s\n", l->a, l->b, PROB(l->loss_ppb, b1));
    }
}

static void print_disk(const struct scenario *s, FILE *out)
{
    char b[32];
    if (s->disk_fsync_latency.text[0])
        fprintf(out, "disk fsync latency %s\n", s->disk_fsync_latency.text);
    if (s->disk_write_latency.text[0])
        fprintf(out, "disk write latency %s\n", s->disk_write_latency.text);
    if (s->disk_torn_write_ppb)
        fprintf(out, "disk torn-write-probability %s\n", PROB(s->disk_torn_write_ppb, b));
    if (s->disk_lost_write_ppb)
        fprintf(out, "disk lost-write-probability %s\n", PROB(s->disk_lost_write_ppb, b));
}

static void print_workload(const struct scenario *s, FILE *out)
{
    char d[32];
    fprintf(out, "clients %d\n", s->clients);
    fprintf(out, "workload mix");
    for (int op = 0; op < SCN_OP_COUNT_; op++)
        if (s->mix_weight[op])
            fprintf(out, " %s=%u", op_names[op], s->mix_weight[op]);
    fprintf(out, "\nkeys %u\n", s->keys);
    fprintf(out, "rate %u/s\n", s->rate_per_s);
    fprintf(out, "session-timeout %s\n", DUR(s->session_timeout_ns, d));
    for (int i = 0; i < s->recipe_count && i < SCN_MAX_RECIPES; i++) {
        char hb[32];
        fprintf(out, "recipe %s %u", scn_recipe_name(s->recipes[i].kind), s->recipes[i].clients);
        if (s->recipes[i].hold_ns)
            fprintf(out, " hold %s", DUR(s->recipes[i].hold_ns, hb));
        fputc('\n', out);
    }
    for (int i = 0; i < s->bug_count && i < SCN_MAX_BUGS; i++)
        fprintf(out, "bug %.*s\n", SCN_NAME_MAX - 1, s->bugs[i]);
}

static void print_expect(const struct scn_expect *e, FILE *out)
{
    char d[32];
    fprintf(out, "expect %s", scn_expect_name(e->kind));
    if (e->kind == SCN_EXPECT_LEADER_WITHIN || e->kind == SCN_EXPECT_PROGRESS_WITHIN)
        fprintf(out, " within %s after %s", DUR(e->within_ns, d),
                e->anchor == SCN_ANCHOR_HEAL ? "heal" : "start");
    fputc('\n', out);
}

int scn_print(const struct scenario *s, FILE *out)
{
    fprintf(out, "# canonical form (scn_print)\n");
    print_cluster(s, out);
    print_network(s, out);
    print_disk(s, out);
    print_workload(s, out);
    for (int i = 0; i < s->event_count && i < SCN_MAX_EVENTS; i++)
        print_event(&s->events[i], out);
    for (int i = 0; i < s->expect_count && i < SCN_MAX_EXPECTS; i++)
        print_expect(&s->expects[i], out);
    return ferror(out) ? -1 : 0;
}

/* --------------------------------------------------------------- equal */

static bool text_equal(const struct scn_text *a, const struct scn_text *b)
{
    return strncmp(a->text, b->text, SCN_TEXT_MAX) == 0;
}

static bool target_equal(const struct scn_target *a, const struct scn_target *b)
{
    return a->kind == b->kind && a->count == b->count && a->ids_mask == b->ids_mask;
}

static bool event_equal(const struct scn_event *a, const struct scn_event *b)
{
    if (a->at_ns != b->at_ns || a->every_ns != b->every_ns || a->until_ns != b->until_ns ||
        a->action != b->action || !target_equal(&a->target, &b->target) ||
        !target_equal(&a->target_to, &b->target_to) || a->link_a != b->link_a ||
        a->link_b != b->link_b || a->group_count != b->group_count ||
        a->duration_ns != b->duration_ns || a->delay_ns != b->delay_ns ||
        a->skew_ns != b->skew_ns || a->drift_ppm != b->drift_ppm || a->factor != b->factor ||
        a->msg_kind != b->msg_kind || a->point != b->point || a->point_count != b->point_count)
        return false;
    if (a->client_count != b->client_count)
        return false;
    for (int i = 0; i < a->client_count && i < SCN_MAX_EVENT_CLIENTS; i++)
        if (a->clients[i].client != b->clients[i].client ||
            a->clients[i].group != b->clients[i].group)
            return false;
    return memcmp(a->group_mask, b->group_mask, sizeof a->group_mask) == 0;
}

static bool link_equal(const struct scn_link *a, const struct scn_link *b)
{
    return a->a == b->a && a->b == b->b && a->fields == b->fields &&
           text_equal(&a->latency, &b->latency) && a->loss_ppb == b->loss_ppb;
}

static bool settings_equal(const struct scenario *a, const struct scenario *b)
{
    return a->seed == b->seed && a->voters == b->voters && a->observers == b->observers &&
           a->tick_ns == b->tick_ns && a->init_limit == b->init_limit &&
           a->sync_limit == b->sync_limit && a->run_ns == b->run_ns &&
           text_equal(&a->net_latency, &b->net_latency) && a->net_loss_ppb == b->net_loss_ppb &&
           a->net_duplicate_ppb == b->net_duplicate_ppb &&
           a->net_reorder_ppb == b->net_reorder_ppb &&
           text_equal(&a->disk_fsync_latency, &b->disk_fsync_latency) &&
           text_equal(&a->disk_write_latency, &b->disk_write_latency) &&
           a->disk_torn_write_ppb == b->disk_torn_write_ppb &&
           a->disk_lost_write_ppb == b->disk_lost_write_ppb && a->clients == b->clients &&
           memcmp(a->mix_weight, b->mix_weight, sizeof a->mix_weight) == 0 &&
           a->keys == b->keys && a->rate_per_s == b->rate_per_s &&
           a->session_timeout_ns == b->session_timeout_ns;
}

bool scn_equal(const struct scenario *a, const struct scenario *b)
{
    if (!settings_equal(a, b) || a->link_count != b->link_count ||
        a->recipe_count != b->recipe_count || a->bug_count != b->bug_count ||
        a->event_count != b->event_count || a->expect_count != b->expect_count)
        return false;
    for (int i = 0; i < a->link_count && i < SCN_MAX_LINKS; i++)
        if (!link_equal(&a->links[i], &b->links[i]))
            return false;
    for (int i = 0; i < a->recipe_count && i < SCN_MAX_RECIPES; i++)
        if (a->recipes[i].kind != b->recipes[i].kind ||
            a->recipes[i].clients != b->recipes[i].clients ||
            a->recipes[i].hold_ns != b->recipes[i].hold_ns)
            return false;
    for (int i = 0; i < a->bug_count && i < SCN_MAX_BUGS; i++)
        if (strncmp(a->bugs[i], b->bugs[i], SCN_NAME_MAX) != 0)
            return false;
    for (int i = 0; i < a->event_count && i < SCN_MAX_EVENTS; i++)
        if (!event_equal(&a->events[i], &b->events[i]))
            return false;
    for (int i = 0; i < a->expect_count && i < SCN_MAX_EXPECTS; i++)
        if (a->expects[i].kind != b->expects[i].kind ||
            a->expects[i].within_ns != b->expects[i].within_ns ||
            a->expects[i].anchor != b->expects[i].anchor)
            return false;
    return true;
}
