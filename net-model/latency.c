/* Latency distributions: sampling via GSL's random distributions, a small
 * tokenizer for the textual spec, and the closed-form moments the tests
 * compare sample statistics against. */
#include "net-model/latency.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#define NS_PER_MS 1e6
#define TOKENS_MAX 4
#define TOKEN_LEN_MAX 63

struct net_latency net_latency_constant(sim_time_ns d_ns)
{
    return (struct net_latency){.kind = NET_LAT_CONSTANT, .p1 = (double)d_ns, .p2 = 0};
}

static sim_time_ns clamp_ns(double x)
{
    if (!(x > 0)) /* also catches NaN */
        return 0;
    if (x >= (double)NET_LATENCY_MAX_NS)
        return NET_LATENCY_MAX_NS;
    return (sim_time_ns)llround(x);
}

static double sample_truncated_normal(const struct net_latency *lat, struct sim_rng *rng)
{
    for (int i = 0; i < NET_LATENCY_REDRAWS_MAX; i++) {
        double x = lat->p1 + gsl_ran_gaussian(rng->g, lat->p2);
        if (x >= 0)
            return x;
    }
    return 0;
}

sim_time_ns net_latency_sample(const struct net_latency *lat, struct sim_rng *rng)
{
    switch (lat->kind) {
    case NET_LAT_CONSTANT: return clamp_ns(lat->p1);
    case NET_LAT_UNIFORM: return clamp_ns(gsl_ran_flat(rng->g, lat->p1, lat->p2));
    case NET_LAT_NORMAL: return clamp_ns(sample_truncated_normal(lat, rng));
    case NET_LAT_LOGNORMAL: return clamp_ns(gsl_ran_lognormal(rng->g, lat->p1, lat->p2) * NS_PER_MS);
    case NET_LAT_PARETO: return clamp_ns(gsl_ran_pareto(rng->g, lat->p2, lat->p1));
    }
    return 0;
}

/* ---- moments ---- */

static void truncated_normal_moments(double mu, double sd, double *mean, double *var)
{
    if (sd == 0) {
        *mean = mu;
        *var = 0;
        return;
    }
    double alpha = -mu / sd;
    double z = gsl_cdf_ugaussian_Q(alpha); /* P(X >= 0) */
    double lambda = gsl_ran_ugaussian_pdf(alpha) / z;
    *mean = mu + sd * lambda;
    *var = sd * sd * (1 + alpha * lambda - lambda * lambda);
}

double net_latency_mean_ns(const struct net_latency *lat)
{
    double m, v;
    switch (lat->kind) {
    case NET_LAT_CONSTANT: return lat->p1;
    case NET_LAT_UNIFORM: return (lat->p1 + lat->p2) / 2;
    case NET_LAT_NORMAL: truncated_normal_moments(lat->p1, lat->p2, &m, &v); return m;
    case NET_LAT_LOGNORMAL: return exp(lat->p1 + lat->p2 * lat->p2 / 2) * NS_PER_MS;
    case NET_LAT_PARETO:
        return lat->p2 > 1 ? lat->p2 * lat->p1 / (lat->p2 - 1) : INFINITY;
    }
    return NAN;
}

double net_latency_variance_ns2(const struct net_latency *lat)
{
    double m, v, s2 = lat->p2 * lat->p2, a = lat->p2;
    switch (lat->kind) {
    case NET_LAT_CONSTANT: return 0;
    case NET_LAT_UNIFORM: return (lat->p2 - lat->p1) * (lat->p2 - lat->p1) / 12;
    case NET_LAT_NORMAL: truncated_normal_moments(lat->p1, lat->p2, &m, &v); return v;
    case NET_LAT_LOGNORMAL:
        return (exp(s2) - 1) * exp(2 * lat->p1 + s2) * NS_PER_MS * NS_PER_MS;
    case NET_LAT_PARETO:
        return a > 2 ? lat->p1 * lat->p1 * a / ((a - 1) * (a - 1) * (a - 2)) : INFINITY;
    }
    return NAN;
}

/* ---- parsing ---- */

struct token {
    const char *s;
    size_t len;
    size_t col;
};

static size_t tokenize(const char *spec, struct token *toks, size_t max, size_t *extra_col)
{
    size_t n = 0, i = 0;
    *extra_col = 0;
    while (spec[i]) {
        while (spec[i] && isspace((unsigned char)spec[i]))
            i++;
        if (!spec[i])
            break;
        size_t start = i;
        while (spec[i] && !isspace((unsigned char)spec[i]))
            i++;
        if (n == max) {
            *extra_col = start;
            return max + 1;
        }
        toks[n++] = (struct token){spec + start, i - start, start};
    }
    return n;
}

/* Parses a plain finite number filling the whole token. */
static int parse_number(const char *s, size_t len, double *out, size_t *num_len)
{
    char buf[TOKEN_LEN_MAX + 1];
    if (len == 0 || len > TOKEN_LEN_MAX)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double x = strtod(buf, &end);
    if (end == buf || !isfinite(x))
        return -1;
    /* strtod accepts hex and "inf"; only plain decimals are part of the grammar. */
    for (const char *p = buf; p < end; p++)
        if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p))
            return -1;
    *out = x;
    *num_len = (size_t)(end - buf);
    return 0;
}

int net_duration_parse(const char *tok, size_t len, double *ns_out)
{
    static const struct { const char *name; double ns; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9},
    };
    double x;
    size_t nlen;
    if (parse_number(tok, len, &x, &nlen) != 0)
        return -1;
    const char *u = tok + nlen;
    size_t ulen = len - nlen;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ulen == strlen(units[i].name) && memcmp(u, units[i].name, ulen) == 0) {
            *ns_out = x * units[i].ns;
            return 0;
        }
    }
    return -1;
}

static int fail(char *err, size_t cap, size_t *err_col, size_t col, const char *fmt,
                const struct token *t)
{
    char what[TOKEN_LEN_MAX + 1];
    size_t n = t && t->len < sizeof what ? t->len : (t ? sizeof what - 1 : 0);
    if (t)
        memcpy(what, t->s, n);
    what[n] = '\0';
    snprintf(err, cap, fmt, what);
    if (err_col)
        *err_col = col;
    return -1;
}

/* Whether a token ends in a letter, i.e. carries a unit. */
static int has_unit(const struct token *t)
{
    return t->len > 0 && isalpha((unsigned char)t->s[t->len - 1]);
}

struct param_rule {
    enum net_latency_kind kind;
    const char *name;
    size_t nparams;
    const char *usage;
};

static const struct param_rule rules[] = {
    {NET_LAT_CONSTANT, "constant", 1, "constant DURATION"},
    {NET_LAT_UNIFORM, "uniform", 2, "uniform LO HI"},
    {NET_LAT_NORMAL, "normal", 2, "normal MEAN SD"},
    {NET_LAT_LOGNORMAL, "lognormal", 2, "lognormal MU SIGMA (MU in ln ms) or lognormal MEDIAN SIGMA"},
    {NET_LAT_PARETO, "pareto", 2, "pareto SCALE SHAPE"},
};

static const struct param_rule *find_rule(const struct token *t)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (t->len == strlen(rules[i].name) && memcmp(t->s, rules[i].name, t->len) == 0)
            return &rules[i];
    return NULL;
}

/* Reads parameter i of the rule into *v: a duration, or a plain number for
 * lognormal's parameters and pareto's shape. */
static int read_param(const struct param_rule *r, const struct token *t, size_t i, double *v)
{
    size_t nlen;
    int plain = (r->kind == NET_LAT_PARETO && i == 1) || (r->kind == NET_LAT_LOGNORMAL && i == 1);
    if (r->kind == NET_LAT_LOGNORMAL && i == 0 && has_unit(t)) {
        double median_ns;
        if (net_duration_parse(t->s, t->len, &median_ns) != 0 || !(median_ns > 0))
            return -1;
        *v = log(median_ns / NS_PER_MS);
        return 0;
    }
    if (r->kind == NET_LAT_LOGNORMAL && i == 0)
        plain = 1;
    if (plain)
        return parse_number(t->s, t->len, v, &nlen) == 0 && nlen == t->len ? 0 : -1;
    return net_duration_parse(t->s, t->len, v);
}

/* Range checks after the numbers parsed; returns the index of the bad
 * parameter with a message, or -1 when all is well. */
static int check_ranges(enum net_latency_kind k, const double *v, const char **why)
{
    switch (k) {
    case NET_LAT_CONSTANT:
        if (v[0] < 0) { *why = "duration must not be negative"; return 0; }
        break;
    case NET_LAT_UNIFORM:
        if (v[0] < 0) { *why = "LO must not be negative"; return 0; }
        if (v[1] < v[0]) { *why = "HI must be >= LO"; return 1; }
        break;
    case NET_LAT_NORMAL:
        if (v[0] < 0) { *why = "MEAN must not be negative"; return 0; }
        if (v[1] < 0) { *why = "SD must not be negative"; return 1; }
        break;
    case NET_LAT_LOGNORMAL:
        if (v[1] < 0) { *why = "SIGMA must not be negative"; return 1; }
        if (v[0] > 30) { *why = "MU too large (latency beyond the 1h cap)"; return 0; }
        break;
    case NET_LAT_PARETO:
        if (!(v[0] > 0)) { *why = "SCALE must be positive"; return 0; }
        if (!(v[1] > 0)) { *why = "SHAPE must be positive"; return 1; }
        break;
    }
    return -1;
}

int net_latency_parse(struct net_latency *out, const char *spec, char *err, size_t err_cap,
                      size_t *err_col)
{
    struct token t[TOKENS_MAX];
    size_t extra_col;
    size_t n = tokenize(spec, t, TOKENS_MAX, &extra_col);
    if (n == 0)
        return fail(err, err_cap, err_col, 0, "empty latency spec%s", NULL);
    if (n > TOKENS_MAX)
        return fail(err, err_cap, err_col, extra_col, "too many words in latency spec%s", NULL);
    const struct param_rule *r = find_rule(&t[0]);
    if (!r)
        return fail(err, err_cap, err_col, t[0].col,
                    "unknown distribution '%s' (constant, uniform, normal, lognormal, pareto)", &t[0]);
    if (n - 1 != r->nparams) {
        size_t col = n - 1 > r->nparams ? t[r->nparams + 1].col : strlen(spec);
        char msg[160];
        snprintf(msg, sizeof msg, "%s: expected '%s'", "%s", r->usage);
        return fail(err, err_cap, err_col, col, msg, &t[0]);
    }
    double v[2] = {0, 0};
    for (size_t i = 0; i < r->nparams; i++) {
        if (read_param(r, &t[i + 1], i, &v[i]) != 0)
            return fail(err, err_cap, err_col, t[i + 1].col,
                        "bad parameter '%s' (durations need a unit: ns, us, ms, s)", &t[i + 1]);
    }
    const char *why = NULL;
    int bad = check_ranges(r->kind, v, &why);
    if (bad >= 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: '%%s'", why);
        return fail(err, err_cap, err_col, t[bad + 1].col, msg, &t[bad + 1]);
    }
    *out = (struct net_latency){.kind = r->kind, .p1 = v[0], .p2 = v[1]};
    return 0;
}

/* ---- formatting ---- */

static void format_duration(double ns, char *buf, size_t cap)
{
    if (ns >= 1e9 && fmod(ns, 1e9) == 0)
        snprintf(buf, cap, "%.17gs", ns / 1e9);
    else if (ns >= 1e6 && fmod(ns, 1e6) == 0)
        snprintf(buf, cap, "%.17gms", ns / 1e6);
    else if (ns >= 1e3 && fmod(ns, 1e3) == 0)
        snprintf(buf, cap, "%.17gus", ns / 1e3);
    else
        snprintf(buf, cap, "%.17gns", ns);
}

void net_latency_format(const struct net_latency *lat, char *buf, size_t cap)
{
    char a[48], b[48];
    format_duration(lat->p1, a, sizeof a);
    format_duration(lat->p2, b, sizeof b);
    switch (lat->kind) {
    case NET_LAT_CONSTANT: snprintf(buf, cap, "constant %s", a); return;
    case NET_LAT_UNIFORM: snprintf(buf, cap, "uniform %s %s", a, b); return;
    case NET_LAT_NORMAL: snprintf(buf, cap, "normal %s %s", a, b); return;
    case NET_LAT_LOGNORMAL: snprintf(buf, cap, "lognormal %.17g %.17g", lat->p1, lat->p2); return;
    case NET_LAT_PARETO: snprintf(buf, cap, "pareto %s %.17g", a, lat->p2); return;
    }
    snprintf(buf, cap, "?");
}
