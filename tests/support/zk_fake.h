/* zk_fake: a trivial ZooKeeper server for tests and the load tool's
 * headroom benchmark: it grants every session, answers every request at once
 * with a canned success (create: the path; setData: a stat; getData: empty
 * data and a stat) and keeps no data. It runs its own epoll loop on a thread,
 * on 127.0.0.1 and an ephemeral port. Test code only. */
#ifndef ZABLAB_TESTS_ZK_FAKE_H
#define ZABLAB_TESTS_ZK_FAKE_H

#include <stdint.h>

struct zk_fake;

struct zk_fake_opts {
    uint32_t fail_every;   /* every Nth reply carries ZBADVERSION; 0 = never */
    uint32_t close_after;  /* close a connection after N replies; 0 = never */
    uint32_t silent_after; /* stop answering after N replies; 0 = never */
};

/* Starts the server; NULL on failure. *port receives the bound port. */
struct zk_fake *zk_fake_start(const struct zk_fake_opts *opts, int *port);
/* Requests answered so far (all connections). */
uint64_t zk_fake_requests(const struct zk_fake *f);
void zk_fake_stop(struct zk_fake *f);

#endif
