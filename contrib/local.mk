# contrib/local.mk - benchmarks and packaging helpers.
