# src/zk/local.mk - build fragment for the zk module.
