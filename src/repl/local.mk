# src/repl/local.mk - build fragment for the repl module.
