# src/repl/local.mk - replica manager.
libsamsa_a_SOURCES += src/repl/sm_replica.c src/repl/sm_replica.h
