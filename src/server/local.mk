# src/server/local.mk - build fragment for the server module.
