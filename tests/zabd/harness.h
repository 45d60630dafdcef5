/* Test harness for zabd processes: free loopback ports, zoo.cfg + myid
 * under a mkdtemp folder, spawn bin/zabd, ask four-letter words, wait for
 * exits with a bound, and kill exactly the PIDs it started.
 *
 * Header-only (static functions) because the Makefile links test binaries
 * with the library only; each tests/test_zabd_*.c includes it once. */
#ifndef ZABLAB_TESTS_ZABD_HARNESS_H
#define ZABLAB_TESTS_ZABD_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define ZH_SERVERS_MAX 5
#define ZH_REPLY_MAX 8192

struct zh_cluster {
    char dir[256];
    char zabd[1024];
    int n;
    uint16_t client_port[ZH_SERVERS_MAX + 1];
    uint16_t quorum_port[ZH_SERVERS_MAX + 1];
    uint16_t election_port[ZH_SERVERS_MAX + 1];
    pid_t pid[ZH_SERVERS_MAX + 1];    /* 0 = not running */
};

static inline uint64_t zh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void zh_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The zabd binary: $ZABD_BIN, else next to $ZABLAB_BIN (the ASan run's own
 * build), else bin/zabd. */
static inline int zh_find_zabd(char *out, size_t cap)
{
    const char *env = getenv("ZABD_BIN");
    if (env && access(env, X_OK) == 0) {
        snprintf(out, cap, "%s", env);
        return 0;
    }
    const char *cli = getenv("ZABLAB_BIN");
    if (cli) {
        snprintf(out, cap, "%s", cli);
        char *slash = strrchr(out, '/');
        if (slash && (size_t)(slash - out) + 6 < cap) {
            strcpy(slash + 1, "zabd");
            if (access(out, X_OK) == 0)
                return 0;
        }
    }
    snprintf(out, cap, "bin/zabd");
    return access(out, X_OK) == 0 ? 0 : -1;
}

/* Lowest port of the kernel's ephemeral range (outgoing connections take
 * their local port from there, so a server port picked inside it could be
 * taken by a dial before the server binds it). */
static inline int zh_ephemeral_low(void)
{
    int low = 32768, high = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* Is 127.0.0.1:port free now? Returns a bound fd (caller closes) or -1. */
static inline int zh_hold_port(uint16_t port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* n distinct free loopback ports below the ephemeral range, from a
 * pseudo-random start (pid and time), held until all are found. */
static inline int zh_free_ports(uint16_t *ports, int n)
{
    int fds[3 * ZH_SERVERS_MAX], k = 0;
    int low = 20000, span = zh_ephemeral_low() - low;
    if (span < 1000 || n > 3 * ZH_SERVERS_MAX)
        return -1;
    uint32_t x = (uint32_t)getpid() * 2654435761u ^ (uint32_t)zh_now_ms();
    for (int tries = 0; tries < 2000 && k < n; tries++) {
        x = x * 1103515245u + 12345u;
        uint16_t port = (uint16_t)(low + (int)((x >> 8) % (uint32_t)span));
        int fd = zh_hold_port(port);
        if (fd < 0)
            continue;
        fds[k] = fd;
        ports[k++] = port;
    }
    for (int i = 0; i < k; i++)
        close(fds[i]);
    return k == n ? 0 : -1;
}

static inline int zh_write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(bytes, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

static inline void zh_server_dir(const struct zh_cluster *c, int id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/s%d", c->dir, id);
}

/* Creates the folder, ports, and for each server zoo.cfg (with `extra`
 * lines appended; ids in observer_mask are observers) and myid. 0 or -1. */
static inline int zh_cluster_init_roles(struct zh_cluster *c, int n, uint32_t tick_ms,
                                        const char *extra, uint32_t observer_mask)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    snprintf(c->dir, sizeof c->dir, "/tmp/zabd-test.XXXXXX");
    if (!mkdtemp(c->dir) || zh_find_zabd(c->zabd, sizeof c->zabd) != 0)
        return -1;
    uint16_t ports[3 * ZH_SERVERS_MAX];
    if (n > ZH_SERVERS_MAX || zh_free_ports(ports, 3 * n) != 0)
        return -1;
    for (int id = 1; id <= n; id++) {
        c->client_port[id] = ports[3 * (id - 1)];
        c->quorum_port[id] = ports[3 * (id - 1) + 1];
        c->election_port[id] = ports[3 * (id - 1) + 2];
    }
    for (int id = 1; id <= n; id++) {
        char sd[300], path[400], text[4096];
        zh_server_dir(c, id, sd, sizeof sd);
        if (mkdir(sd, 0755) != 0)
            return -1;
        int len = snprintf(text, sizeof text,
                           "tickTime=%u\ninitLimit=10\nsyncLimit=5\ndataDir=%s\n"
                           "clientPort=%u\nclientPortAddress=127.0.0.1\n",
                           tick_ms, sd, c->client_port[id]);
        for (int j = 1; j <= n; j++)
            len += snprintf(text + len, sizeof text - (size_t)len, "server.%d=127.0.0.1:%u:%u%s\n",
                            j, c->quorum_port[j], c->election_port[j],
                            (observer_mask & (1u << j)) ? ":observer" : "");
        len += snprintf(text + len, sizeof text - (size_t)len, "%s", extra ? extra : "");
        snprintf(path, sizeof path, "%s/zoo.cfg", sd);
        if (zh_write_file(path, text, (size_t)len) != 0)
            return -1;
        snprintf(path, sizeof path, "%s/myid", sd);
        len = snprintf(text, sizeof text, "%d\n", id);
        if (zh_write_file(path, text, (size_t)len) != 0)
            return -1;
    }
    return 0;
}

static inline int zh_cluster_init(struct zh_cluster *c, int n, uint32_t tick_ms, const char *extra)
{
    return zh_cluster_init_roles(c, n, tick_ms, extra, 0);
}

/* Starts server id; its stderr is appended to <dir>/s<id>/zabd.log. */
static inline pid_t zh_start(struct zh_cluster *c, int id)
{
    char sd[300], cfg[400], logp[400];
    zh_server_dir(c, id, sd, sizeof sd);
    snprintf(cfg, sizeof cfg, "%s/zoo.cfg", sd);
    snprintf(logp, sizeof logp, "%s/zabd.log", sd);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execl(c->zabd, c->zabd, cfg, (char *)NULL);
        _exit(127);
    }
    c->pid[id] = pid > 0 ? pid : 0;
    return pid;
}

/* Waits up to timeout_ms for pid to exit. Its wait status, or -1 on timeout. */
static inline int zh_wait_exit(pid_t pid, unsigned timeout_ms)
{
    uint64_t end = zh_now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 || zh_now_ms() >= end)
            return -1;
        zh_sleep_ms(10);
    }
}

/* Sends sig to server id and waits for its exit: its wait status or -1. */
static inline int zh_stop(struct zh_cluster *c, int id, int sig, unsigned timeout_ms)
{
    if (!c->pid[id])
        return -1;
    kill(c->pid[id], sig);
    int st = zh_wait_exit(c->pid[id], timeout_ms);
    if (st != -1)
        c->pid[id] = 0;
    return st;
}

static inline int zh_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Kills what is still running (by PID) and removes the folder. Keeps the
 * folder when ZABD_TEST_KEEP is set, for reading the logs. */
static inline void zh_cluster_destroy(struct zh_cluster *c)
{
    for (int id = 1; id <= c->n; id++)
        if (c->pid[id] && zh_stop(c, id, SIGKILL, 5000) == -1)
            fprintf(stderr, "zabd pid %d did not exit\n", (int)c->pid[id]);
    if (c->dir[0] && !getenv("ZABD_TEST_KEEP"))
        nftw(c->dir, zh_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    else if (c->dir[0])
        fprintf(stderr, "kept %s\n", c->dir);
}

/* Sends len bytes to port and reads the reply until the server closes.
 * Reply length, or -1 (no connection / timeout). */
static inline int zh_ask(uint16_t port, const char *word, size_t len, char *out, size_t cap,
                  unsigned timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        send(fd, word, len, MSG_NOSIGNAL) != (ssize_t)len) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t got = 0;
    uint64_t end = zh_now_ms() + timeout_ms;
    for (;;) {
        uint64_t now = zh_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (now >= end || poll(&p, 1, (int)(end - now)) <= 0) {
            close(fd);
            return -1;
        }
        ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
        if (n <= 0 || got + (size_t)n >= cap - 1) {
            if (n > 0)
                got += (size_t)n;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    out[got] = '\0';
    return (int)got;
}

static inline int zh_4lw(uint16_t port, const char *word, char *out, size_t cap, unsigned timeout_ms)
{
    return zh_ask(port, word, strlen(word), out, cap, timeout_ms);
}

enum zh_mode { ZH_DOWN = -1, ZH_NOT_SERVING = 0, ZH_LEADER, ZH_FOLLOWER, ZH_OBSERVER };

static inline enum zh_mode zh_mode(const struct zh_cluster *c, int id)
{
    char reply[ZH_REPLY_MAX];
    if (zh_4lw(c->client_port[id], "srvr", reply, sizeof reply, 1000) < 0)
        return ZH_DOWN;
    if (strstr(reply, "Mode: leader\n"))
        return ZH_LEADER;
    if (strstr(reply, "Mode: follower\n"))
        return ZH_FOLLOWER;
    if (strstr(reply, "Mode: observer\n"))
        return ZH_OBSERVER;
    return ZH_NOT_SERVING;
}

/* Waits (bounded) until the servers in `mask` (bit per id) show exactly one
 * leader and all others following. Returns the leader's id, or 0. */
static inline int zh_wait_ensemble(const struct zh_cluster *c, uint32_t mask, unsigned timeout_ms)
{
    uint64_t end = zh_now_ms() + timeout_ms;
    do {
        int leaders = 0, followers = 0, members = 0, leader = 0;
        for (int id = 1; id <= c->n; id++) {
            if (!(mask & (1u << id)))
                continue;
            members++;
            enum zh_mode m = zh_mode(c, id);
            if (m == ZH_LEADER)
                leaders++, leader = id;
            else if (m == ZH_FOLLOWER)
                followers++;
        }
        if (leaders == 1 && followers == members - 1)
            return leader;
        zh_sleep_ms(50);
    } while (zh_now_ms() < end);
    return 0;
}

/* Reads a whole (small) file into out; its length or -1. */
static inline long zh_read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    return (long)n;
}

#endif
