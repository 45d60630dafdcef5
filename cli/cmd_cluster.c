/* `zablab cluster start|stop|status`: runs a local zabd ensemble on
 * loopback for demos and manual testing.
 *
 * Owns: the cluster folder layout (DIR/s<N>/zoo.cfg, myid, zabd.log, and
 * DIR/pids with one "ID PID CLIENT_PORT" line per started server).
 * Never: signals a process it did not start: stop only signals the PIDs in
 * DIR/pids, and only while /proc/PID/cmdline still names that server's
 * zoo.cfg (a PID reused by another program is left alone).
 *
 * Ports for server N (1-based) with --base-port P: client P+N-1, quorum
 * P+100+N-1, election P+200+N-1 (P=2181: 2181.., 2281.., 2381..). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"

#define CLUSTER_SERVERS_MAX 15
#define CLUSTER_STOP_WAIT_MS 10000
#define CLUSTER_REPLY_MAX 4096

struct cluster_opts {
    const char *action;
    int servers;
    const char *dir;
    int base_port;
    int tick_ms;
};

struct cluster_member {
    int id;
    long pid;
    int client_port;
};

static int cluster_usage(FILE *out)
{
    fprintf(out,
            "usage: zablab cluster start|stop|status [--servers N] [--dir DIR] [--base-port P]\n"
            "                                        [--tick-ms T]\n"
            "  start   write DIR/s<i>/zoo.cfg + myid, start N zabd processes, record DIR/pids\n"
            "  stop    SIGTERM exactly the processes in DIR/pids and wait for them\n"
            "  status  ask each server 'srvr' and print its mode\n"
            "  defaults: --servers 3 --dir zablab-cluster --base-port 2181 --tick-ms 200\n"
            "  ports of server i: client P+i-1, quorum P+100+i-1, election P+200+i-1\n");
    return out == stdout ? 0 : 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_opts(int argc, char **argv, struct cluster_opts *o)
{
    *o = (struct cluster_opts){NULL, 3, "zablab-cluster", 2181, 200};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--servers") && has_value) {
            if (parse_int(argv[++i], 1, CLUSTER_SERVERS_MAX, &o->servers))
                return fprintf(stderr, "cluster: --servers wants 1..%d\n", CLUSTER_SERVERS_MAX), -1;
        } else if (!strcmp(a, "--dir") && has_value) {
            o->dir = argv[++i];
        } else if (!strcmp(a, "--base-port") && has_value) {
            if (parse_int(argv[++i], 1024, 65535 - 200 - CLUSTER_SERVERS_MAX, &o->base_port))
                return fprintf(stderr, "cluster: --base-port wants 1024..%d\n",
                               65535 - 200 - CLUSTER_SERVERS_MAX), -1;
        } else if (!strcmp(a, "--tick-ms") && has_value) {
            if (parse_int(argv[++i], 10, 60000, &o->tick_ms))
                return fprintf(stderr, "cluster: --tick-ms wants 10..60000\n"), -1;
        } else if (!o->action && a[0] != '-') {
            o->action = a;
        } else {
            return fprintf(stderr, "cluster: unexpected argument '%s'\n", a), -1;
        }
    }
    if (!o->action)
        return fprintf(stderr, "cluster: start, stop or status?\n"), -1;
    return 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int server_paths(const struct cluster_opts *o, int id, char *dir, char *cfg, size_t cap)
{
    int a = snprintf(dir, cap, "%s/s%d", o->dir, id);
    int b = snprintf(cfg, cap, "%s/s%d/zoo.cfg", o->dir, id);
    return (a < 0 || (size_t)a >= cap || b < 0 || (size_t)b >= cap) ? -1 : 0;
}

static int write_server_files(const struct cluster_opts *o, int id)
{
    char dir[PATH_MAX], cfg[PATH_MAX], text[8192], path[PATH_MAX + 16];
    if (server_paths(o, id, dir, cfg, sizeof dir) || (mkdir(dir, 0755) && errno != EEXIST))
        return -1;
    int n = snprintf(text, sizeof text,
                     "# written by zablab cluster start\ntickTime=%d\ninitLimit=10\nsyncLimit=5\n"
                     "dataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                     "4lw.commands.whitelist=*\n",
                     o->tick_ms, dir, o->base_port + id - 1);
    for (int j = 1; j <= o->servers && n > 0 && (size_t)n < sizeof text; j++)
        n += snprintf(text + n, sizeof text - (size_t)n, "server.%d=127.0.0.1:%d:%d\n", j,
                      o->base_port + 100 + j - 1, o->base_port + 200 + j - 1);
    if (n < 0 || (size_t)n >= sizeof text || write_text(cfg, text))
        return -1;
    snprintf(path, sizeof path, "%s/myid", dir);
    snprintf(text, sizeof text, "%d\n", id);
    return write_text(path, text);
}

/* zabd next to this zablab binary, else $ZABD_BIN, else "zabd" on PATH. */
static void find_zabd(char *out, size_t cap) /* cap >= PATH_MAX */
{
    const char *env = getenv("ZABD_BIN");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char self[PATH_MAX - 8];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, cap, "%s/zabd", self);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, cap, "zabd");
}

static int read_pids(const char *dir, struct cluster_member *m, int cap)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/pids", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    while (n < cap && fscanf(f, "%d %ld %d", &m[n].id, &m[n].pid, &m[n].client_port) == 3)
        n++;
    fclose(f);
    return n;
}

/* Is pid still the zabd we started for server id? */
static int is_our_zabd(const struct cluster_opts *o, const struct cluster_member *m)
{
    char path[64], cmdline[PATH_MAX * 2], dir[PATH_MAX], cfg[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", m->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(cmdline, 1, sizeof cmdline - 1, f);
    fclose(f);
    cmdline[n] = '\0';
    if (server_paths(o, m->id, dir, cfg, sizeof dir))
        return 0;
    for (size_t i = 0; i < n; i += strlen(cmdline + i) + 1)
        if (!strcmp(cmdline + i, cfg))
            return 1;
    return 0;
}

static long spawn_zabd(const char *zabd, const char *dir, const char *cfg)
{
    char log_path[PATH_MAX + 16];
    snprintf(log_path, sizeof log_path, "%s/zabd.log", dir);
    pid_t pid = fork();
    if (pid != 0)
        return (long)pid;
    /* Child: its own session, so it outlives this command and the terminal. */
    setsid();
    int in = open("/dev/null", O_RDONLY);
    int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0)
        dup2(in, STDIN_FILENO);
    if (out >= 0) {
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
    }
    execl(zabd, zabd, cfg, (char *)NULL);
    execlp(zabd, zabd, cfg, (char *)NULL);
    fprintf(stderr, "zablab cluster: cannot run %s: %s\n", zabd, strerror(errno));
    _exit(127);
}

static int cluster_start(const struct cluster_opts *o)
{
    struct cluster_member m[CLUSTER_SERVERS_MAX];
    int running = 0, n_old = read_pids(o->dir, m, CLUSTER_SERVERS_MAX);
    for (int i = 0; i < n_old; i++)
        running += is_our_zabd(o, &m[i]);
    if (running > 0) {
        fprintf(stderr, "cluster: %d server(s) of %s still run; 'zablab cluster stop' first\n",
                running, o->dir);
        return 2;
    }
    char zabd[PATH_MAX];
    find_zabd(zabd, sizeof zabd);
    for (int id = 1; id <= o->servers; id++)
        if (write_server_files(o, id) != 0) {
            fprintf(stderr, "cluster: cannot write the files of server %d under %s: %s\n", id,
                    o->dir, strerror(errno));
            return 3;
        }
    char pids_path[PATH_MAX + 8], line[64];
    snprintf(pids_path, sizeof pids_path, "%s/pids", o->dir);
    FILE *pf = fopen(pids_path, "w");
    if (!pf) {
        fprintf(stderr, "cluster: cannot write %s: %s\n", pids_path, strerror(errno));
        return 3;
    }
    for (int id = 1; id <= o->servers; id++) {
        char dir[PATH_MAX], cfg[PATH_MAX];
        server_paths(o, id, dir, cfg, sizeof dir);
        m[id - 1] = (struct cluster_member){id, spawn_zabd(zabd, dir, cfg), o->base_port + id - 1};
        if (m[id - 1].pid > 0) {
            snprintf(line, sizeof line, "%d %ld %d\n", id, m[id - 1].pid, m[id - 1].client_port);
            fputs(line, pf);
        }
    }
    fclose(pf);
    /* A server that cannot bind its ports exits at once: say so now. */
    struct timespec pause = {0, 300 * 1000000L};
    nanosleep(&pause, NULL);
    int failed = 0;
    for (int id = 1; id <= o->servers; id++) {
        int status;
        if (m[id - 1].pid <= 0 || waitpid((pid_t)m[id - 1].pid, &status, WNOHANG) != 0) {
            fprintf(stderr, "cluster: server %d exited at once; see %s/s%d/zabd.log\n", id,
                    o->dir, id);
            failed++;
        } else {
            printf("server %d: pid %ld, client port %d\n", id, m[id - 1].pid,
                   m[id - 1].client_port);
        }
    }
    return failed ? 3 : 0;
}

static int cluster_stop(const struct cluster_opts *o)
{
    struct cluster_member m[CLUSTER_SERVERS_MAX];
    int n = read_pids(o->dir, m, CLUSTER_SERVERS_MAX);
    if (n < 0) {
        fprintf(stderr, "cluster: no %s/pids: nothing was started there\n", o->dir);
        return 2;
    }
    int signalled[CLUSTER_SERVERS_MAX] = {0};
    for (int i = 0; i < n; i++)
        if (is_our_zabd(o, &m[i]) && kill((pid_t)m[i].pid, SIGTERM) == 0)
            signalled[i] = 1;
    int left = 0;
    for (int waited_ms = 0;; waited_ms += 20) {
        left = 0;
        for (int i = 0; i < n; i++)
            if (signalled[i] && is_our_zabd(o, &m[i]))
                left++;
        if (left == 0 || waited_ms >= CLUSTER_STOP_WAIT_MS)
            break;
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < n; i++)
        if (signalled[i])
            printf("server %d: pid %ld %s\n", m[i].id, m[i].pid,
                   is_our_zabd(o, &m[i]) ? "still running" : "stopped");
    if (left > 0) {
        fprintf(stderr, "cluster: %d server(s) did not stop within %d ms\n", left,
                CLUSTER_STOP_WAIT_MS);
        return 3;
    }
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/pids", o->dir);
    unlink(path);
    return 0;
}

/* Sends "srvr" to 127.0.0.1:port and reads the reply (bounded to 1 s). */
static int ask_srvr(int port, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        send(fd, "srvr", 4, MSG_NOSIGNAL) != 4) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t got = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (got < cap - 1 && poll(&p, 1, 1000) > 0) {
        ssize_t r = recv(fd, out + got, cap - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    out[got] = '\0';
    return 0;
}

static void reply_field(const char *reply, const char *key, char *out, size_t cap)
{
    const char *p = strstr(reply, key);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(key);
    size_t n = strcspn(p, "\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static int cluster_status(const struct cluster_opts *o)
{
    struct cluster_member m[CLUSTER_SERVERS_MAX];
    int n = read_pids(o->dir, m, CLUSTER_SERVERS_MAX);
    if (n < 0) {
        n = o->servers;
        for (int i = 0; i < n; i++)
            m[i] = (struct cluster_member){i + 1, 0, o->base_port + i};
    }
    int serving = 0;
    for (int i = 0; i < n; i++) {
        char reply[CLUSTER_REPLY_MAX], mode[64], zxid[64];
        if (ask_srvr(m[i].client_port, reply, sizeof reply) != 0) {
            printf("server %d: port %d: down\n", m[i].id, m[i].client_port);
            continue;
        }
        reply_field(reply, "Mode: ", mode, sizeof mode);
        reply_field(reply, "Zxid: ", zxid, sizeof zxid);
        if (!mode[0]) {
            printf("server %d: port %d: not serving\n", m[i].id, m[i].client_port);
            continue;
        }
        serving++;
        printf("server %d: port %d: %s zxid %s\n", m[i].id, m[i].client_port, mode, zxid);
    }
    return serving == n ? 0 : 1;
}

int cmd_cluster(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return cluster_usage(stdout);
    struct cluster_opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return cluster_usage(stderr);
    /* Absolute paths: the PID check compares /proc/PID/cmdline to them. */
    static char dir_abs[PATH_MAX];
    if (!strcmp(o.action, "start") && mkdir(o.dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cluster: cannot create %s: %s\n", o.dir, strerror(errno));
        return 3;
    }
    if (realpath(o.dir, dir_abs))
        o.dir = dir_abs;
    if (!strcmp(o.action, "start"))
        return cluster_start(&o);
    if (!strcmp(o.action, "stop"))
        return cluster_stop(&o);
    if (!strcmp(o.action, "status"))
        return cluster_status(&o);
    fprintf(stderr, "cluster: unknown action '%s'\n", o.action);
    return cluster_usage(stderr);
}
