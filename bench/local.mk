# bench/local.mk: the benchmark owner fills this fragment (see Makefile.am for the variables to append to).
