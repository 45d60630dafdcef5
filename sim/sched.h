/* The discrete-event scheduler: a bounded priority queue of events ordered
 * by (time, insertion sequence).
 *
 * Owns: the event array (allocated once at init; nothing is allocated per
 * event) and the insertion counter. Ties in time are broken by insertion
 * order only, never by pointer values, so a run is a pure function of the
 * seed. Must never: call a handler (the caller's loop dispatches), read a
 * clock, or grow past its capacity (push fails with SIM_SCHED_FULL). */
#ifndef ZABLAB_SIM_SCHED_H
#define ZABLAB_SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t sim_time_ns;

#define SIM_NS_PER_US 1000ull
#define SIM_NS_PER_MS 1000000ull
#define SIM_NS_PER_S  1000000000ull
#define SIM_TIME_NEVER UINT64_MAX

/* Whole milliseconds, as uint64_t for PRIu64 formats. */
static inline uint64_t sim_ns_to_ms(sim_time_ns t) { return (uint64_t)(t / SIM_NS_PER_MS); }

/* A plain-data event. `kind` is the caller's closed enum; `node` is the
 * target (or -1); `a`, `b` carry kind-specific data such as a link id and a
 * message sequence. Events never hold pointers: a copy of the queue is a
 * copy of the future. */
struct sim_event {
    sim_time_ns time;
    uint64_t seq;
    uint32_t kind;
    int32_t node;
    uint64_t a;
    uint64_t b;
};

struct sim_sched {
    struct sim_event *heap;
    size_t len;
    size_t cap;
    uint64_t next_seq;
    sim_time_ns now;
    uint64_t popped;
    size_t high_water;
};

enum sim_sched_status { SIM_SCHED_OK = 0, SIM_SCHED_FULL = -1, SIM_SCHED_PAST = -2 };

/* Allocates room for `capacity` pending events. Returns 0, or -1 on OOM or
 * a capacity of 0 or too large to allocate. */
int sim_sched_init(struct sim_sched *s, size_t capacity);
void sim_sched_free(struct sim_sched *s);

/* Schedules an event at absolute time `t` (>= now). */
enum sim_sched_status sim_sched_push(struct sim_sched *s, sim_time_ns t, uint32_t kind,
                                     int32_t node, uint64_t a, uint64_t b);

/* Schedules an event `delay` after now. */
enum sim_sched_status sim_sched_after(struct sim_sched *s, sim_time_ns delay, uint32_t kind,
                                      int32_t node, uint64_t a, uint64_t b);

/* Removes the earliest event into *ev and advances `now` to its time.
 * Returns false when the queue is empty. */
bool sim_sched_pop(struct sim_sched *s, struct sim_event *ev);

/* Time of the earliest pending event, or SIM_TIME_NEVER. */
sim_time_ns sim_sched_peek_time(const struct sim_sched *s);

static inline size_t sim_sched_pending(const struct sim_sched *s) { return s->len; }

const char *sim_sched_status_str(enum sim_sched_status st);

#endif
