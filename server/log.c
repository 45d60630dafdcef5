/* log: see log.h. The level and tag are process globals on purpose: zabd is
 * one server per process and every module logs. */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum slog_level g_level = SLOG_INFO;
static char g_tag[32] = "zabd";

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void slog_set_level(enum slog_level level)
{
    g_level = level;
}

int slog_set_level_name(const char *name)
{
    static const char *const lower[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, lower[i]) == 0) {
            g_level = (enum slog_level)i;
            return 0;
        }
    return -1;
}

void slog_set_tag(const char *tag)
{
    snprintf(g_tag, sizeof g_tag, "%s", tag);
}

int slog_enabled(enum slog_level level)
{
    return level >= g_level && level <= SLOG_ERROR;
}

void slog(enum slog_level level, const char *fmt, ...)
{
    if (level < g_level || level > SLOG_ERROR)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[SLOG_LINE_MAX];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, level_names[level], g_tag);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* One write per line so that lines of several processes sharing a
     * terminal or file do not interleave mid-line. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
