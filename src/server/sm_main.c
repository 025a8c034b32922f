/*
 * sm_main.c - samsa-server: command line, daemonisation, signals, and the
 * start-up and shutdown order of the broker.
 *
 * Usage (as kafka-server-start.sh):
 *   samsa-server [--daemon] server.properties [--override key=value]...
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/sm_log.h"
#include "core/sm_loop.h"
#include "core/sm_util.h"
#include "server/sm_server.h"
#include "config.h"

int sm_server_start(char *errstr, size_t errlen);
void sm_server_stop(void);

static void
usage(FILE *f)
{
    fprintf(f, "USAGE: samsa-server [--daemon] server.properties [--override property=value]*\n"
               "  --daemon               run in the background (pid file: samsa.pid.file)\n"
               "  --override key=value   override a server.properties setting\n"
               "  --version              print the version and exit\n");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    if (sig == SIGHUP) {
        sm_log_reopen();
        return;
    }
    if (sm_srv.shutting_down) return;
    sm_log_info("samsa.server", "[KafkaServer id=%d] Received %s, shutting down", sm_srv.cfg.broker_id,
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
    sm_srv.shutting_down = 1;
    event_base_loopbreak(sm_srv.main_base);
}

static int
daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) _exit(0);
    setsid();
    pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) _exit(0);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        if (sm_srv.cfg.log_file) dup2(fd, 2);
        if (fd > 2) close(fd);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *props_path = NULL;
    int daemon = 0;
    sm_props_t overrides;
    char err[1024];

    sm_props_init(&overrides);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--daemon") || !strcmp(argv[i], "-daemon")) daemon = 1;
        else if (!strcmp(argv[i], "--version")) { printf("samsa %s\n", PACKAGE_VERSION); return 0; }
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else if (!strcmp(argv[i], "--override")) {
            if (i + 1 >= argc || sm_props_set_kv(&overrides, argv[i + 1]) < 0) {
                fprintf(stderr, "samsa-server: --override needs key=value\n");
                return 1;
            }
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "samsa-server: unknown option %s\n", argv[i]);
            usage(stderr);
            return 1;
        } else if (!props_path) props_path = argv[i];
        else { fprintf(stderr, "samsa-server: unexpected argument %s\n", argv[i]); return 1; }
    }
    if (!props_path) { usage(stderr); return 1; }

    if (sm_broker_config_load(&sm_srv.cfg, props_path, &overrides, err, sizeof(err)) < 0) {
        sm_log_write(SM_LOG_FATAL, "samsa.server", "Exiting due to invalid configuration: %s", err);
        return 1;
    }
    sm_props_free(&overrides);
    int lvl = sm_log_level_parse(sm_srv.cfg.log_level);
    if (lvl >= 0) sm_log_level = lvl;
    if (sm_srv.cfg.log_file && sm_log_open(sm_srv.cfg.log_file) < 0) {
        fprintf(stderr, "samsa-server: cannot open log file %s: %s\n", sm_srv.cfg.log_file, strerror(errno));
        return 1;
    }
    if (daemon) {
        if (daemonize() < 0) { perror("samsa-server: fork"); return 1; }
        if (sm_srv.cfg.pid_file) {
            char pid[32];
            int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
            if (sm_write_file_atomic(sm_srv.cfg.pid_file, pid, (size_t)n) < 0)
                sm_log_warn("samsa.server", "Cannot write pid file %s: %s", sm_srv.cfg.pid_file, strerror(errno));
        }
    }
    signal(SIGPIPE, SIG_IGN);
    sm_loop_init();
    sm_srv.main_base = event_base_new();
    struct event *sigs[3];
    int signos[3] = { SIGTERM, SIGINT, SIGHUP };
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(sm_srv.main_base, signos[i], on_signal, NULL);
        evsignal_add(sigs[i], NULL);
    }

    if (sm_server_start(err, sizeof(err)) < 0) {
        sm_log_write(SM_LOG_FATAL, "samsa.server", "[KafkaServer id=%d] Fatal error during KafkaServer startup. Prepare to shutdown: %s",
                     sm_srv.cfg.broker_id, err);
        sm_server_stop();
        return 1;
    }
    event_base_dispatch(sm_srv.main_base);
    sm_server_stop();
    for (int i = 0; i < 3; i++) event_free(sigs[i]);
    event_base_free(sm_srv.main_base);
    if (daemon && sm_srv.cfg.pid_file) unlink(sm_srv.cfg.pid_file);
    sm_broker_config_free(&sm_srv.cfg);
    return 0;
}
