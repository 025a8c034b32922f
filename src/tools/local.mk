# src/tools/local.mk - build fragment for the tools module.
