/* loop: a small epoll event loop in the style of Redis's ae: file
 * descriptors with read/write interest, one-shot timers on CLOCK_MONOTONIC
 * kept in a min-heap, a hook run before every sleep, run and stop.
 *
 * Owns: the epoll fd, the fd table and the timer heap (sized at creation).
 * Never: reads or writes the fds it watches, or owns them (it never closes
 * a watched fd; the caller removes it first).
 *
 * Bounds: fds numbered below LOOP_FDS_MAX, at most LOOP_TIMERS_MAX armed
 * timers; past either bound the add call fails with -1 and nothing changes.
 * Callbacks may add/remove fds and timers freely, including their own. */
#ifndef ZABLAB_SERVER_LOOP_H
#define ZABLAB_SERVER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define LOOP_FDS_MAX 1024
#define LOOP_TIMERS_MAX 1024
#define LOOP_EVENTS_PER_WAIT 64

#define LOOP_READABLE 1
#define LOOP_WRITABLE 2
#define LOOP_ERROR 4     /* reported with READABLE: EPOLLERR or EPOLLHUP */

struct loop;

typedef void loop_fd_fn(struct loop *l, int fd, int mask, void *arg);
typedef void loop_timer_fn(struct loop *l, uint64_t timer_id, void *arg);
typedef void loop_hook_fn(struct loop *l, void *arg);

/* NULL with a message in err on failure. */
struct loop *loop_new(char *err, size_t errlen);
void loop_free(struct loop *l);

/* Watches fd with mask (READABLE|WRITABLE, may be 0). 0 or -1 (fd out of
 * range, already watched, epoll_ctl failed). */
int loop_fd_add(struct loop *l, int fd, int mask, loop_fd_fn *fn, void *arg);
int loop_fd_set_mask(struct loop *l, int fd, int mask);
int loop_fd_mask(const struct loop *l, int fd);    /* -1 if not watched */
void loop_fd_del(struct loop *l, int fd);          /* no-op if not watched */

/* One-shot timer at absolute monotonic time at_ms. Returns its id (> 0), or
 * 0 when LOOP_TIMERS_MAX timers are armed. Timers due at the same time fire
 * in the order they were added. */
uint64_t loop_timer_add(struct loop *l, uint64_t at_ms, loop_timer_fn *fn, void *arg);
void loop_timer_cancel(struct loop *l, uint64_t timer_id);   /* unknown id: no-op */
uint32_t loop_timer_count(const struct loop *l);

void loop_set_before_sleep(struct loop *l, loop_hook_fn *fn, void *arg);

/* CLOCK_MONOTONIC in milliseconds, never 0. */
uint64_t loop_clock_ms(void);

/* Runs until loop_stop. 0, or -1 if epoll_wait failed (other than EINTR). */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* One iteration: before-sleep hook, wait at most max_wait_ms (or less for a
 * due timer), dispatch fds, then due timers. For tests. */
int loop_run_once(struct loop *l, uint64_t max_wait_ms);

#endif
