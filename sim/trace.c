/* Records are formatted into a fixed stack buffer, hashed with XXH3-64
 * chained on the previous hash, then written if a stream is attached. */
#include "sim/trace.h"

#include <stdarg.h>
#include <string.h>
#include <xxhash.h>

void sim_trace_init(struct sim_trace *tr, FILE *out)
{
    tr->out = out;
    tr->hash = 0x7a61626c6162ull; /* "zablab" */
    tr->records = 0;
}

void sim_trace_event(struct sim_trace *tr, sim_time_ns t, int node, const char *kind,
                     const char *fmt, ...)
{
    char line[SIM_TRACE_LINE_MAX];
    int n = snprintf(line, sizeof line, "{\"t_ns\":%llu,\"node\":%d,\"kind\":\"%s\"",
                     (unsigned long long)t, node, kind);
    size_t len = n < (int)sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && len + 2 < sizeof line) {
        line[len++] = ',';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    if (len + 2 >= sizeof line)
        len = sizeof line - 3;
    line[len++] = '}';
    line[len++] = '\n';
    line[len] = '\0';
    tr->hash = XXH3_64bits_withSeed(line, len, tr->hash);
    tr->records++;
    if (tr->out)
        fwrite(line, 1, len, tr->out);
}

void sim_json_escape(char *buf, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(buf + o, cap - o, "\\u%04x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o < cap ? o : cap - 1] = '\0';
}
