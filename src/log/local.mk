# src/log/local.mk - build fragment for the log module.
