/*
 * sm_zk_broker.h - a broker's own ZooKeeper duties (Kafka 2.x KafkaServer /
 * KafkaZkClient): the persistent paths, /cluster/id, the ephemeral
 * /brokers/ids/<id> registration and its broker epoch, re-registration after
 * session expiry, following /controller, and live topic and broker config
 * changes from /config/changes.
 *
 * Threading: everything runs on the owner event_base thread (the one given
 * to sm_zk_open()); callbacks are called there.
 */
#ifndef SM_ZK_BROKER_H
#define SM_ZK_BROKER_H

#include <stdint.h>
#include "core/sm_conf.h"
#include "zk/sm_zk.h"
#include "zk/sm_zk_codec.h"

typedef struct sm_zk_broker_s sm_zk_broker_t;

typedef struct {
    /* After every successful (re-)registration, with the new broker epoch. */
    void (*registered)(void *arg, int64_t broker_epoch);
    /* /controller changed: the controller's broker id, or -1 for none. */
    void (*controller_changed)(void *arg, int32_t controller_id);
    /* A config_change notification for topics/<topic>: its full config. */
    void (*topic_config_changed)(void *arg, const char *topic, const sm_props_t *config);
    /* Re-registration after session expiry failed for good (e.g. another
     * live broker took our id); the owner should shut down. */
    void (*fatal)(void *arg, const char *msg);
    void *arg;
    /* A config_change notification for brokers/<entity> where entity is
     * this broker's id or "<default>": the entity's full dynamic config
     * (empty when /config/brokers/<entity> is gone). Other brokers' ids
     * are not delivered. Last so positional initialisers keep working. */
    void (*broker_config_changed)(void *arg, const char *entity, const sm_props_t *config);
} sm_zk_broker_cb_t;

/* info: id, endpoints (listener/host/port), rack, jmx_port; copied.
 * version: registration JSON version, 4 or 5. cb copied; members may be
 * NULL. zk must outlive the result. */
sm_zk_broker_t *sm_zk_broker_new(sm_zk_t *zk, const sm_broker_info_t *info, int version,
                                 const sm_zk_broker_cb_t *cb);
void sm_zk_broker_free(sm_zk_broker_t *b);

/* Broker start-up, blocking (call on the base thread before or while its
 * loop runs): ensure persistent paths, get-or-create /cluster/id (*cluster_id
 * heap, caller frees), register /brokers/ids/<id> (*broker_epoch = czxid),
 * then arm the /controller and /config/changes watches. Returns 0, or -1
 * with Kafka's message in errstr (e.g. "Error while creating ephemeral at
 * /brokers/ids/0, node already exists and owner '...' does not match current
 * session '...'"). */
int sm_zk_broker_start(sm_zk_broker_t *b, char **cluster_id, int64_t *broker_epoch, char *errstr, size_t errlen);

/* Last seen controller id (-1 if none), and the current broker epoch. */
int32_t sm_zk_broker_controller_id(const sm_zk_broker_t *b);
int64_t sm_zk_broker_epoch(const sm_zk_broker_t *b);

/* Generate a Kafka cluster id: 22 chars of base64url (no padding) of a
 * random (version 4) UUID. out must hold 23 bytes. */
void sm_zk_generate_cluster_id(char out[23]);

/* ZkData.PersistentZkPaths plus /config/<type> for every config type. */
extern const char *const sm_zk_persistent_paths[];

#endif
