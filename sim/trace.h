/* The run trace: one JSON Lines record per scheduler-level event
 * ({"t_ns":...,"node":...,"kind":"...",<details>}) and a 64-bit hash over
 * every record, written or not. Two runs with the same seed and binary must
 * produce byte-identical records and the same hash.
 *
 * Owns: the hash state and the optional output stream (not closed here).
 * Must never: include anything that varies between runs (pointers, wall
 * time, the process id) in a record. */
#ifndef ZABLAB_SIM_TRACE_H
#define ZABLAB_SIM_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "sim/sched.h"

#define SIM_TRACE_LINE_MAX 2048

struct sim_trace {
    FILE *out;       /* NULL: hash only */
    uint64_t hash;   /* running hash, chained record by record */
    uint64_t records;
};

void sim_trace_init(struct sim_trace *tr, FILE *out);

/* Appends one record. `fmt` (may be NULL) formats the extra JSON members,
 * without braces or a leading comma: "\"peer\":2,\"msg\":\"ACK\"". A record
 * longer than SIM_TRACE_LINE_MAX is cut, and the cut is deterministic. */
void sim_trace_event(struct sim_trace *tr, sim_time_ns t, int node, const char *kind,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The hash of everything recorded so far. */
static inline uint64_t sim_trace_hash(const struct sim_trace *tr) { return tr->hash; }

/* Writes `s` as a JSON string literal body (escaped, no quotes) into buf. */
void sim_json_escape(char *buf, size_t cap, const char *s);

#endif
