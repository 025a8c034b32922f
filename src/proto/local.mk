# src/proto/local.mk - build fragment for the proto module.
