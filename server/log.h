/* log: zabd's leveled logging to stderr, one line per call, each with a UTC
 * wall-clock timestamp (for humans; nothing decides on it) and the server id.
 *
 * Owns: the process-wide level and tag. Never: exits, allocates, or blocks
 * on anything but the write to stderr. */
#ifndef ZABLAB_SERVER_LOG_H
#define ZABLAB_SERVER_LOG_H

enum slog_level { SLOG_DEBUG = 0, SLOG_INFO = 1, SLOG_WARN = 2, SLOG_ERROR = 3 };

#define SLOG_LINE_MAX 1024 /* longer messages are cut */

void slog_set_level(enum slog_level level);
/* "debug" | "info" | "warn" | "error" -> 0, else -1 (level unchanged). */
int slog_set_level_name(const char *name);
void slog_set_tag(const char *tag);   /* e.g. "s2"; copied, at most 31 chars */
void slog(enum slog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if a line at this level would be written: skip building costly ones. */
int slog_enabled(enum slog_level level);

#define slog_debug(...) slog(SLOG_DEBUG, __VA_ARGS__)
#define slog_info(...) slog(SLOG_INFO, __VA_ARGS__)
#define slog_warn(...) slog(SLOG_WARN, __VA_ARGS__)
#define slog_error(...) slog(SLOG_ERROR, __VA_ARGS__)

#endif
