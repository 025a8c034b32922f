/*
 * sm_log.c - log4j-layout log lines to stderr or a file.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "core/sm_log.h"

int sm_log_level = SM_LOG_INFO;
static int log_fd = 2;
static char *log_path;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *names[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL" };

int
sm_log_open(const char *path)
{
    if (!path || !strcmp(path, "-")) return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    pthread_mutex_lock(&log_lock);
    if (log_fd > 2) close(log_fd);
    log_fd = fd;
    free(log_path);
    log_path = strdup(path);
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void
sm_log_reopen(void)
{
    if (log_path) {
        char *p = strdup(log_path);
        sm_log_open(p);
        free(p);
    }
}

int
sm_log_level_parse(const char *name)
{
    for (int i = 0; i < 6; i++)
        if (!strcasecmp(name, names[i])) return i;
    if (!strcasecmp(name, "WARNING")) return SM_LOG_WARN;
    return -1;
}

void
sm_log_write(int level, const char *logger, const char *fmt, ...)
{
    char line[4096];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof(line), "[%Y-%m-%d %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - n, ",%03d] %s ", (int)(tv.tv_usec / 1000),
                  names[level < 0 ? 0 : level > 5 ? 5 : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    n += m;
    if (n > (int)sizeof(line) - 64) n = (int)sizeof(line) - 64;
    n += snprintf(line + n, sizeof(line) - n, " (%s)\n", logger);
    pthread_mutex_lock(&log_lock);
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w;
    pthread_mutex_unlock(&log_lock);
}
