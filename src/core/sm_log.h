/*
 * sm_log.h - logging in Kafka's log4j layout.
 *
 * Every line is "[%d] %p %m (%c)": e.g.
 *   [2026-11-21 12:00:00,123] INFO [KafkaServer id=0] started (samsa.server)
 * Callers put the "[Component id=N] " prefix in the message themselves and
 * pass the logger name ("samsa.server", "samsa.log", ...) separately. One
 * write(2) per line, so lines from several threads never interleave.
 */
#ifndef SM_LOG_H
#define SM_LOG_H

enum { SM_LOG_TRACE, SM_LOG_DEBUG, SM_LOG_INFO, SM_LOG_WARN, SM_LOG_ERROR, SM_LOG_FATAL };

extern int sm_log_level;   /* lines below this level are dropped before formatting */

/* Direct log output to a file (append); NULL or "-" means stderr. Returns 0/-1. */
int sm_log_open(const char *path);
/* Re-open the log file (SIGHUP, logrotate). */
void sm_log_reopen(void);
/* Parse "INFO", "debug", ... ; returns -1 if unknown. */
int sm_log_level_parse(const char *name);

void sm_log_write(int level, const char *logger, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SM_LOG(level, logger, ...) \
    do { if ((level) >= sm_log_level) sm_log_write((level), (logger), __VA_ARGS__); } while (0)
#define sm_log_debug(logger, ...) SM_LOG(SM_LOG_DEBUG, logger, __VA_ARGS__)
#define sm_log_info(logger, ...)  SM_LOG(SM_LOG_INFO, logger, __VA_ARGS__)
#define sm_log_warn(logger, ...)  SM_LOG(SM_LOG_WARN, logger, __VA_ARGS__)
#define sm_log_error(logger, ...) SM_LOG(SM_LOG_ERROR, logger, __VA_ARGS__)

#endif
