# src/net/local.mk - build fragment for the net module.
