/*
 * sm_logmgr.c - the log manager (see sm_logmgr.h): log dir locking and
 * identity, checkpoint files, parallel start-up loading and recovery,
 * partition placement and the periodic retention/roll/flush/checkpoint work.
 *
 * Logs live in a chained hash table keyed by (topic, partition) under one
 * mutex. Loading runs recovery_threads workers per directory; each log is
 * opened independently, so workers share nothing but two atomic counters.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/sm_conf.h"
#include "core/sm_log.h"
#include "core/sm_util.h"
#include "log/sm_ckpt.h"
#include "log/sm_logmgr.h"

#define LOGGER "samsa.log"
#define RP_FILE "recovery-point-offset-checkpoint"
#define LSO_FILE "log-start-offset-checkpoint"
#define HW_FILE "replication-offset-checkpoint"
#define CLEAN_FILE ".kafka_cleanshutdown"
#define META_FILE "meta.properties"

typedef struct lm_entry_s {
    sm_plog_t *log;
    int dir;
    struct lm_entry_s *next;
} lm_entry_t;

struct sm_logmgr_s {
    pthread_mutex_t lock;
    sm_logmgr_config_t cfg;          /* dirs deep-copied */
    int *lock_fds;
    int *counts;                     /* partitions per dir */
    lm_entry_t **buckets;
    size_t nbuckets, n;
    int64_t last_retention, last_flush, last_ckpt;
    sm_cleaner_t *cleaner;           /* NULL when log.cleaner.enable=false */
};

static size_t
bucket_of(const sm_logmgr_t *m, const char *topic, int32_t partition)
{
    uint32_t h = (uint32_t)sm_java_string_hash(topic, strlen(topic)) * 31u + (uint32_t)partition;
    return h % m->nbuckets;
}

static lm_entry_t *
find(sm_logmgr_t *m, const char *topic, int32_t partition)
{
    for (lm_entry_t *e = m->buckets[bucket_of(m, topic, partition)]; e; e = e->next)
        if (sm_plog_partition(e->log) == partition && strcmp(sm_plog_topic(e->log), topic) == 0) return e;
    return NULL;
}

static void
insert(sm_logmgr_t *m, sm_plog_t *log, int dir)
{
    if (m->n >= m->nbuckets) {   /* keep chains short: grow at load factor 1 */
        size_t nb = m->nbuckets * 2;
        lm_entry_t **b = sm_calloc(nb, sizeof(*b));
        for (size_t i = 0; i < m->nbuckets; i++) {
            for (lm_entry_t *e = m->buckets[i], *nx; e; e = nx) {
                nx = e->next;
                const char *t = sm_plog_topic(e->log);
                uint32_t h = (uint32_t)sm_java_string_hash(t, strlen(t)) * 31u + (uint32_t)sm_plog_partition(e->log);
                e->next = b[h % nb];
                b[h % nb] = e;
            }
        }
        free(m->buckets);
        m->buckets = b;
        m->nbuckets = nb;
    }
    lm_entry_t *e = sm_malloc(sizeof(*e));
    e->log = log;
    e->dir = dir;
    size_t k = bucket_of(m, sm_plog_topic(log), sm_plog_partition(log));
    e->next = m->buckets[k];
    m->buckets[k] = e;
    m->n++;
    m->counts[dir]++;
}

/* ---- directory identity ---- */

static int
lock_dir(const char *dir, int *fd_out, char *errstr, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(errstr, errlen, "Failed to create lock file %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(errstr, errlen, "Failed to acquire lock on file .lock in %s. A Kafka instance in another "
                 "process or thread is using this directory.", dir);
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

static int
check_meta(const sm_logmgr_config_t *cfg, const char *dir, char *errstr, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/" META_FILE, dir);
    if (access(path, F_OK) == 0) {
        sm_props_t p;
        sm_props_init(&p);
        if (sm_props_load(&p, path, errstr, errlen) < 0) { sm_props_free(&p); return -1; }
        const char *ver = sm_props_get(&p, "version"), *bid = sm_props_get(&p, "broker.id"),
                   *cid = sm_props_get(&p, "cluster.id");
        int64_t v, b;
        int rc = 0;
        if (!ver || sm_parse_i64(ver, &v) < 0 || (v != 0 && v != 1)) {
            snprintf(errstr, errlen, "Unrecognized version of the server meta.properties file in %s: %s", dir,
                     ver ? ver : "(missing)");
            rc = -1;
        } else if (bid && (sm_parse_i64(bid, &b) < 0 || b != cfg->broker_id)) {
            snprintf(errstr, errlen, "The broker id %d doesn't match stored broker.id %s in meta.properties "
                     "(%s). If you moved your data, make sure your configured broker.id matches. If you intend "
                     "to create a new broker, you should remove all data in your data directories (log.dirs).",
                     cfg->broker_id, bid, dir);
            rc = -1;
        } else if (cid && cfg->cluster_id && strcmp(cid, cfg->cluster_id) != 0) {
            snprintf(errstr, errlen, "The Cluster ID %s doesn't match stored clusterId Some(%s) in "
                     "meta.properties (%s). The broker is trying to join the wrong cluster. Configured "
                     "zookeeper.connect may be wrong.", cfg->cluster_id, cid, dir);
            rc = -1;
        }
        int complete = bid && (cid || !cfg->cluster_id);
        sm_props_free(&p);
        if (rc < 0 || complete) return rc;
    }
    /* Missing or incomplete (no cluster.id yet): write the full identity. */
    char text[512], date[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%a %b %d %H:%M:%S UTC %Y", gmtime_r(&now, &tm));
    int n = snprintf(text, sizeof(text), "#\n#%s\nbroker.id=%d\nversion=0\n%s%s%s", date, cfg->broker_id,
                     cfg->cluster_id ? "cluster.id=" : "", cfg->cluster_id ? cfg->cluster_id : "",
                     cfg->cluster_id ? "\n" : "");
    if (sm_write_file_atomic(path, text, (size_t)n) < 0) {
        snprintf(errstr, errlen, "Error writing %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- loading ---- */

/* "<topic>-<partition>": the partition is after the LAST '-'. */
static int
parse_log_dir_name(const char *name, char *topic, size_t cap, int32_t *partition)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || dash[1] == '\0' || (size_t)(dash - name) >= cap) return -1;
    int64_t p = 0;
    for (const char *c = dash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || p > INT32_MAX / 10) return -1;
        p = p * 10 + (*c - '0');
    }
    if (p > INT32_MAX) return -1;
    memcpy(topic, name, (size_t)(dash - name));
    topic[dash - name] = '\0';
    *partition = (int32_t)p;
    return 0;
}

typedef struct {
    char topic[256];
    int32_t partition;
    int64_t rp, lso, hw;
    sm_plog_t *log;
    char err[256];
} load_task_t;

typedef struct {
    const sm_logmgr_t *m;
    const char *dir;
    load_task_t *tasks;
    int ntasks;
    int recover;
    int next;                        /* atomic */
    int done;                        /* atomic */
} load_job_t;

static void *
load_worker(void *arg)
{
    load_job_t *j = arg;
    for (;;) {
        int i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->ntasks) break;
        load_task_t *t = &j->tasks[i];
        int64_t t0 = sm_mono_ms();
        t->log = sm_plog_open(j->dir, t->topic, t->partition, &j->m->cfg.defaults, t->rp, t->lso, j->recover,
                              t->err, sizeof(t->err));
        int d = __atomic_add_fetch(&j->done, 1, __ATOMIC_RELAXED);
        if (t->log) {
            sm_plog_set_high_watermark(t->log, t->hw);
            sm_log_info(LOGGER, "[LogManager] Completed load of log %s-%d with %d segments in %lld ms "
                        "(%d/%d loaded in %s, %d%%)", t->topic, t->partition, sm_plog_segment_count(t->log),
                        (long long)(sm_mono_ms() - t0), d, j->ntasks, j->dir, d * 100 / j->ntasks);
        }
    }
    return NULL;
}

static int64_t
ckpt_lookup(const sm_ckpt_entry_t *e, int n, const char *topic, int32_t partition, int64_t def)
{
    for (int i = 0; i < n; i++)
        if (e[i].partition == partition && strcmp(e[i].topic, topic) == 0) return e[i].offset;
    return def;
}

static void
read_ckpt_or_warn(const char *dir, const char *file, sm_ckpt_entry_t **e, int *n)
{
    char path[PATH_MAX], err[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (sm_ckpt_read(path, e, n, err, sizeof(err)) < 0) {
        sm_log_error(LOGGER, "[LogManager] Ignoring %s: %s", path, err);
        *e = NULL;
        *n = 0;
    }
}

static int
load_dir(sm_logmgr_t *m, int di, char *errstr, size_t errlen)
{
    const char *dir = m->cfg.dirs[di];
    char path[PATH_MAX];
    int64_t t0 = sm_mono_ms();
    sm_log_info(LOGGER, "[LogManager] Loading logs from log dir %s", dir);
    snprintf(path, sizeof(path), "%s/" CLEAN_FILE, dir);
    int clean = access(path, F_OK) == 0;
    if (!clean)
        sm_log_info(LOGGER, "[LogManager] Attempting recovery for all logs in %s since no clean shutdown file was found", dir);

    sm_ckpt_entry_t *rp = NULL, *lso = NULL, *hw = NULL;
    int nrp = 0, nlso = 0, nhw = 0;
    read_ckpt_or_warn(dir, RP_FILE, &rp, &nrp);
    read_ckpt_or_warn(dir, LSO_FILE, &lso, &nlso);
    read_ckpt_or_warn(dir, HW_FILE, &hw, &nhw);

    load_job_t j = { m, dir, NULL, 0, !clean, 0, 0 };
    int cap = 0, rc = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(errstr, errlen, "Error reading log dir %s: %s", dir, strerror(errno));
        rc = -1;
        goto out;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) continue;
        size_t nl = strlen(e->d_name);
        if (nl > 7 && strcmp(e->d_name + nl - 7, "-delete") == 0) {
            sm_log_info(LOGGER, "[LogManager] Deleting log directory %s left over from a topic deletion", path);
            sm_rmtree(path);
            continue;
        }
        load_task_t t;
        memset(&t, 0, sizeof(t));
        if (parse_log_dir_name(e->d_name, t.topic, sizeof(t.topic), &t.partition) < 0) {
            if (!(nl > 7 && strcmp(e->d_name + nl - 7, "-future") == 0))
                sm_log_warn(LOGGER, "[LogManager] Skipping %s: not a <topic>-<partition> directory", path);
            continue;
        }
        t.rp = ckpt_lookup(rp, nrp, t.topic, t.partition, 0);
        t.lso = ckpt_lookup(lso, nlso, t.topic, t.partition, 0);
        t.hw = ckpt_lookup(hw, nhw, t.topic, t.partition, 0);
        if (j.ntasks == cap) { cap = cap ? cap * 2 : 64; j.tasks = sm_realloc(j.tasks, (size_t)cap * sizeof(t)); }
        j.tasks[j.ntasks++] = t;
    }
    closedir(d);

    if (j.ntasks > 0) {
        if (!clean) sm_log_info(LOGGER, "[LogManager] Recovering %d logs in %s", j.ntasks, dir);
        int nth = SM_MAX(1, SM_MIN(m->cfg.recovery_threads, j.ntasks));
        pthread_t *th = sm_calloc((size_t)nth, sizeof(*th));
        int started = 0;
        for (int i = 1; i < nth; i++)
            if (pthread_create(&th[started], NULL, load_worker, &j) == 0) started++;
        load_worker(&j);   /* this thread is one of the workers */
        for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
        free(th);
    }
    for (int i = 0; i < j.ntasks; i++) {
        load_task_t *t = &j.tasks[i];
        if (t->log) {
            insert(m, t->log, di);
        } else if (rc == 0) {
            snprintf(errstr, errlen, "Error loading log %s-%d in %s: %s", t->topic, t->partition, dir, t->err);
            rc = -1;
        }
    }
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/" CLEAN_FILE, dir);
        if (clean) unlink(path);   /* a crash from now on must recover */
        sm_log_info(LOGGER, "[LogManager] Loaded %d logs in %s in %lld ms.", j.ntasks, dir,
                    (long long)(sm_mono_ms() - t0));
    }
out:
    free(j.tasks);
    sm_ckpt_free(rp, nrp);
    sm_ckpt_free(lso, nlso);
    sm_ckpt_free(hw, nhw);
    return rc;
}

static void
free_mgr(sm_logmgr_t *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (lm_entry_t *e = m->buckets[i], *nx; e; e = nx) { nx = e->next; sm_plog_close(e->log); free(e); }
    }
    for (int i = 0; i < m->cfg.ndirs; i++) {
        if (m->lock_fds[i] >= 0) close(m->lock_fds[i]);   /* closing drops the flock */
        free(m->cfg.dirs[i]);
    }
    free(m->cfg.dirs);
    free(m->lock_fds);
    free(m->counts);
    free(m->buckets);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

sm_logmgr_t *
sm_logmgr_open(const sm_logmgr_config_t *cfg, char *errstr, size_t errlen)
{
    if (cfg->ndirs < 1) {
        snprintf(errstr, errlen, "log.dirs is empty");
        return NULL;
    }
    int64_t t0 = sm_mono_ms();
    sm_logmgr_t *m = sm_calloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    m->cfg = *cfg;
    m->cfg.cluster_id = NULL;   /* only used during open, from cfg */
    m->cfg.dirs = sm_calloc((size_t)cfg->ndirs, sizeof(char *));
    m->lock_fds = sm_malloc((size_t)cfg->ndirs * sizeof(int));
    m->counts = sm_calloc((size_t)cfg->ndirs, sizeof(int));
    m->nbuckets = 64;
    m->buckets = sm_calloc(m->nbuckets, sizeof(*m->buckets));
    for (int i = 0; i < cfg->ndirs; i++) {
        m->cfg.dirs[i] = sm_strdup(cfg->dirs[i]);
        m->lock_fds[i] = -1;
    }
    for (int i = 0; i < cfg->ndirs; i++) {
        if (sm_mkdirs(cfg->dirs[i], 0755) < 0) {
            snprintf(errstr, errlen, "Failed to create log dir %s: %s", cfg->dirs[i], strerror(errno));
            goto err;
        }
        if (lock_dir(cfg->dirs[i], &m->lock_fds[i], errstr, errlen) < 0) goto err;
        if (check_meta(cfg, cfg->dirs[i], errstr, errlen) < 0) goto err;
    }
    int total = 0;
    for (int i = 0; i < cfg->ndirs; i++) {
        if (load_dir(m, i, errstr, errlen) < 0) goto err;
        total += m->counts[i];
    }
    sm_log_info(LOGGER, "[LogManager] Loaded %d logs in %lld ms.", total, (long long)(sm_mono_ms() - t0));
    m->last_retention = m->last_flush = m->last_ckpt = sm_now_ms();
    if (cfg->cleaner.enable) {
        sm_log_info(LOGGER, "[LogManager] Starting the log cleaner");
        m->cleaner = sm_cleaner_new(&cfg->cleaner, m->cfg.dirs, m->cfg.ndirs);
        sm_cleaner_start(m->cleaner, m);
    }
    return m;
err:
    free_mgr(m);
    return NULL;
}

sm_plog_t *
sm_logmgr_get(sm_logmgr_t *m, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&m->lock);
    lm_entry_t *e = find(m, topic, partition);
    sm_plog_t *l = e ? e->log : NULL;
    pthread_mutex_unlock(&m->lock);
    return l;
}

sm_plog_t *
sm_logmgr_get_or_create(sm_logmgr_t *m, const char *topic, int32_t partition, const sm_log_config_t *cfg,
                        char *errstr, size_t errlen)
{
    pthread_mutex_lock(&m->lock);
    lm_entry_t *e = find(m, topic, partition);
    sm_plog_t *l = e ? e->log : NULL;
    if (!l) {
        int best = 0;
        for (int i = 1; i < m->cfg.ndirs; i++)
            if (m->counts[i] < m->counts[best]) best = i;
        l = sm_plog_open(m->cfg.dirs[best], topic, partition, cfg ? cfg : &m->cfg.defaults, 0, 0, 0, errstr, errlen);
        if (l) {
            insert(m, l, best);
            sm_log_info(LOGGER, "[LogManager] Created log for partition %s-%d in %s/%s-%d", topic, partition,
                        m->cfg.dirs[best], topic, partition);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return l;
}

void
sm_logmgr_delete(sm_logmgr_t *m, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&m->lock);
    lm_entry_t **pp = &m->buckets[bucket_of(m, topic, partition)];
    for (; *pp; pp = &(*pp)->next) {
        lm_entry_t *e = *pp;
        if (sm_plog_partition(e->log) == partition && strcmp(sm_plog_topic(e->log), topic) == 0) {
            *pp = e->next;
            m->n--;
            m->counts[e->dir]--;
            sm_cleaner_abort(m->cleaner, e->log, 1);
            sm_plog_delete(e->log);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void
sm_logmgr_foreach(sm_logmgr_t *m, void (*fn)(sm_plog_t *l, void *arg), void *arg)
{
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nbuckets; i++)
        for (lm_entry_t *e = m->buckets[i]; e; e = e->next) fn(e->log, arg);
    pthread_mutex_unlock(&m->lock);
}

/* Write the three checkpoints of every dir; caller holds m->lock. */
static void
checkpoint_locked(sm_logmgr_t *m)
{
    for (int d = 0; d < m->cfg.ndirs; d++) {
        int n = 0;
        sm_ckpt_entry_t *rp = sm_calloc((size_t)m->counts[d] + 1, sizeof(*rp));
        sm_ckpt_entry_t *ls = sm_calloc((size_t)m->counts[d] + 1, sizeof(*ls));
        sm_ckpt_entry_t *hw = sm_calloc((size_t)m->counts[d] + 1, sizeof(*hw));
        for (size_t i = 0; i < m->nbuckets; i++) {
            for (lm_entry_t *e = m->buckets[i]; e; e = e->next) {
                if (e->dir != d || n >= m->counts[d]) continue;
                rp[n].topic = ls[n].topic = hw[n].topic = (char *)sm_plog_topic(e->log);
                rp[n].partition = ls[n].partition = hw[n].partition = sm_plog_partition(e->log);
                rp[n].offset = sm_plog_recovery_point(e->log);
                ls[n].offset = sm_plog_log_start_offset(e->log);
                hw[n].offset = sm_plog_high_watermark(e->log);
                n++;
            }
        }
        static const char *const files[] = { RP_FILE, LSO_FILE, HW_FILE };
        sm_ckpt_entry_t *arrs[] = { rp, ls, hw };
        for (int k = 0; k < 3; k++) {
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", m->cfg.dirs[d], files[k]);
            if (sm_ckpt_write(path, arrs[k], n) < 0)
                sm_log_error(LOGGER, "[LogManager] Error writing %s: %s", path, strerror(errno));
        }
        free(rp);
        free(ls);
        free(hw);
    }
}

void
sm_logmgr_checkpoint(sm_logmgr_t *m)
{
    pthread_mutex_lock(&m->lock);
    checkpoint_locked(m);
    pthread_mutex_unlock(&m->lock);
}

void
sm_logmgr_tick(sm_logmgr_t *m, int64_t now_ms)
{
    pthread_mutex_lock(&m->lock);
    int ret = now_ms - m->last_retention >= m->cfg.retention_check_interval_ms;
    int fl = now_ms - m->last_flush >= m->cfg.flush_scheduler_interval_ms;
    int ck = now_ms - m->last_ckpt >= m->cfg.checkpoint_interval_ms;
    if (ret || fl) {
        for (size_t i = 0; i < m->nbuckets; i++) {
            for (lm_entry_t *e = m->buckets[i]; e; e = e->next) {
                if (ret) sm_plog_apply_retention(e->log, now_ms);
                if (fl) {
                    sm_plog_maybe_roll(e->log, now_ms);
                    sm_plog_maybe_flush(e->log, now_ms);
                }
            }
        }
    }
    if (ret) m->last_retention = now_ms;
    if (fl) m->last_flush = now_ms;
    if (ck) {
        checkpoint_locked(m);
        m->last_ckpt = now_ms;
    }
    pthread_mutex_unlock(&m->lock);
}

void
sm_logmgr_shutdown(sm_logmgr_t *m)
{
    if (!m) return;
    int64_t t0 = sm_mono_ms();
    /* Before the lock: cleaner threads may be waiting for it. */
    sm_cleaner_free(m->cleaner);
    m->cleaner = NULL;
    pthread_mutex_lock(&m->lock);
    sm_log_info(LOGGER, "[LogManager] Shutting down.");
    int ok = 1;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (lm_entry_t *e = m->buckets[i]; e; e = e->next)
            if (sm_plog_flush(e->log) < 0) ok = 0;
    checkpoint_locked(m);
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (lm_entry_t *e = m->buckets[i], *nx; e; e = nx) { nx = e->next; sm_plog_close(e->log); free(e); }
        m->buckets[i] = NULL;
    }
    /* The marker promises every log was flushed: only write it if true. */
    for (int d = 0; d < m->cfg.ndirs && ok; d++) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" CLEAN_FILE, m->cfg.dirs[d]);
        if (sm_write_file_atomic(path, "", 0) < 0)
            sm_log_error(LOGGER, "[LogManager] Error writing %s: %s", path, strerror(errno));
    }
    sm_log_info(LOGGER, "[LogManager] Shutdown complete in %lld ms.", (long long)(sm_mono_ms() - t0));
    free_mgr(m);
}
