# examples/local.mk: the examples owner fills this fragment (see Makefile.am for the variables to append to).
